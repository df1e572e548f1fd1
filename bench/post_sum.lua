-- wrk script for the HTTP benchmarks: every request is POST /sum with a small JSON body.
wrk.method = "POST"
wrk.body = '{"a":1,"b":2}'
wrk.headers["Content-Type"] = "application/json"
