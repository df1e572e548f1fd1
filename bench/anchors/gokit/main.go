// Command gokit-sum is the Go kit anchor of pygokit's HTTP benchmark (bench/http_frameworks.py).
//
// It serves POST /sum, {"a":1,"b":2} -> {"v":3}, with Go kit 0.10's httptransport.NewServer,
// either bare or with a production endpoint chain: go-kit log logging middleware (logfmt to
// io.Discard), Prometheus request counter and duration histogram (client_golang, private
// registry), go-kit's erroring rate limiter over x/time/rate (far above the load), and a
// consecutive-failures circuit breaker written here (Debian's go-kit has no circuitbreaker
// package). It runs on one OS thread for Go code (GOMAXPROCS=1) so that it is comparable with
// one Python process.
//
// Usage: gokit-sum -addr 127.0.0.1:8080 -chain bare|full
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	stdlog "log"
	"net/http"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/go-kit/kit/endpoint"
	"github.com/go-kit/kit/log"
	"github.com/go-kit/kit/ratelimit"
	httptransport "github.com/go-kit/kit/transport/http"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"
)

type sumRequest struct {
	A int `json:"a"`
	B int `json:"b"`
}

type sumResponse struct {
	V int `json:"v"`
}

func sumEndpoint(_ context.Context, request interface{}) (interface{}, error) {
	req := request.(sumRequest)
	return sumResponse{V: req.A + req.B}, nil
}

var errMethod = errors.New("use POST")

func decodeSumRequest(_ context.Context, r *http.Request) (interface{}, error) {
	if r.Method != http.MethodPost {
		return nil, errMethod
	}
	var req sumRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return nil, err
	}
	return req, nil
}

// loggingMiddleware logs every call after it ends, as Go kit's addsvc does.
func loggingMiddleware(logger log.Logger) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request interface{}) (response interface{}, err error) {
			defer func(begin time.Time) {
				logger.Log("method", "sum", "took", time.Since(begin), "err", err)
			}(time.Now())
			return next(ctx, request)
		}
	}
}

// instrumentingMiddleware counts calls and observes their duration, labelled by method and
// outcome, with the Prometheus Go client directly (Debian's go-kit has no metrics package).
func instrumentingMiddleware(requests *prometheus.CounterVec, duration *prometheus.HistogramVec) endpoint.Middleware {
	okRequests := requests.WithLabelValues("sum", "true")
	failedRequests := requests.WithLabelValues("sum", "false")
	okDuration := duration.WithLabelValues("sum", "true")
	failedDuration := duration.WithLabelValues("sum", "false")
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request interface{}) (interface{}, error) {
			begin := time.Now()
			response, err := next(ctx, request)
			took := time.Since(begin).Seconds()
			if err != nil {
				failedRequests.Inc()
				failedDuration.Observe(took)
			} else {
				okRequests.Inc()
				okDuration.Observe(took)
			}
			return response, err
		}
	}
}

var errCircuitOpen = errors.New("circuit breaker is open")

// breaker opens after more than maxFailures consecutive failures and lets one probe call
// through once openFor has passed; a successful probe closes it again.
type breaker struct {
	mu          sync.Mutex
	failures    int
	maxFailures int
	openUntil   time.Time
	open        bool
	openFor     time.Duration
}

func (b *breaker) allow() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.open {
		return true
	}
	now := time.Now()
	if now.Before(b.openUntil) {
		return false
	}
	b.openUntil = now.Add(b.openFor) // half-open: this call is the probe
	return true
}

func (b *breaker) done(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		b.failures, b.open = 0, false
		return
	}
	b.failures++
	if b.failures > b.maxFailures {
		b.open, b.openUntil = true, time.Now().Add(b.openFor)
	}
}

func circuitBreaker(b *breaker) endpoint.Middleware {
	return func(next endpoint.Endpoint) endpoint.Endpoint {
		return func(ctx context.Context, request interface{}) (interface{}, error) {
			if !b.allow() {
				return nil, errCircuitOpen
			}
			response, err := next(ctx, request)
			b.done(err)
			return response, err
		}
	}
}

func fullChain() endpoint.Middleware {
	logger := log.NewLogfmtLogger(io.Discard)
	registry := prometheus.NewRegistry()
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "requests_total", Help: "Requests served.",
	}, []string{"method", "success"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "request_duration_seconds", Help: "Time per request.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "success"})
	registry.MustRegister(requests, duration)
	limiter := rate.NewLimiter(rate.Limit(1e9), 1_000_000_000)
	return endpoint.Chain(
		loggingMiddleware(logger),
		instrumentingMiddleware(requests, duration),
		ratelimit.NewErroringLimiter(limiter),
		circuitBreaker(&breaker{maxFailures: 5, openFor: 60 * time.Second}),
	)
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	chain := flag.String("chain", "bare", "bare, or full for the production chain")
	flag.Parse()
	runtime.GOMAXPROCS(1)

	var e endpoint.Endpoint = sumEndpoint
	switch *chain {
	case "bare":
	case "full":
		e = fullChain()(e)
	default:
		fmt.Fprintf(os.Stderr, "gokit-sum: -chain must be bare or full, not %q\n", *chain)
		os.Exit(2)
	}
	mux := http.NewServeMux()
	mux.Handle("/sum", httptransport.NewServer(e, decodeSumRequest, httptransport.EncodeJSONResponse))
	stdlog.Fatal(http.ListenAndServe(*addr, mux))
}
