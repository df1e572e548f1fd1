// Command grpcload is the load generator of pygokit's gRPC benchmark (bench/grpc_unary.py).
//
// It keeps -concurrency unary calls of one method in flight, spread over -conns HTTP/2
// connections, for -duration, and prints one JSON object: how many calls succeeded, how many
// failed, the rate, the p50 and p99 latency, and the CPU time this process used. Messages are
// sent and compared as bytes (a pass-through codec), so the generator needs no generated code,
// spends no time on protobuf, and checks every reply against the expected bytes: a reply that
// differs counts as an error.
//
// Usage: grpcload -addr 127.0.0.1:PORT -method /pb.Add/Sum -request 08011002 -expect 0803
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
)

// rawCodec sends a *[]byte as the message and receives the message into a *[]byte. Its name
// is "proto" so that the content type stays application/grpc+proto.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *v.(*[]byte), nil }

func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	out := v.(*[]byte)
	*out = append((*out)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

type result struct {
	Requests int64   `json:"requests"`
	Errors   int64   `json:"errors"`
	Seconds  float64 `json:"seconds"`
	Rps      float64 `json:"rps"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
	CPUs     float64 `json:"cpu_s"`
	Error    string  `json:"first_error,omitempty"`
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "server address")
	method := flag.String("method", "/pb.Add/Sum", "full method name")
	requestHex := flag.String("request", "", "request message, hex")
	expectHex := flag.String("expect", "", "expected reply message, hex")
	conns := flag.Int("conns", 4, "HTTP/2 connections")
	concurrency := flag.Int("concurrency", 32, "calls in flight")
	duration := flag.Duration("duration", 3*time.Second, "how long to load")
	flag.Parse()
	runtime.GOMAXPROCS(1)

	request, err := hex.DecodeString(*requestHex)
	check(err)
	expect, err := hex.DecodeString(*expectHex)
	check(err)
	clients := make([]*grpc.ClientConn, *conns)
	for i := range clients {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		clients[i], err = grpc.DialContext(ctx, *addr, grpc.WithInsecure(), grpc.WithBlock(),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
		cancel()
		check(err)
	}

	var errors int64
	var firstError atomic.Value
	latencies := make([][]time.Duration, *concurrency)
	var wg sync.WaitGroup
	before := cpuSeconds()
	begin := time.Now()
	end := begin.Add(*duration)
	for w := 0; w < *concurrency; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			client := clients[w%len(clients)]
			mine := make([]time.Duration, 0, 1<<16)
			var reply []byte
			for {
				start := time.Now()
				if !start.Before(end) {
					break
				}
				err := client.Invoke(context.Background(), *method, &request, &reply)
				if err == nil && !bytes.Equal(reply, expect) {
					err = fmt.Errorf("unexpected reply %x", reply)
				}
				if err != nil {
					atomic.AddInt64(&errors, 1)
					firstError.CompareAndSwap(nil, err.Error())
					continue
				}
				mine = append(mine, time.Since(start))
			}
			latencies[w] = mine
		}(w)
	}
	wg.Wait()
	took := time.Since(begin).Seconds()
	spent := cpuSeconds() - before
	for _, client := range clients {
		client.Close()
	}

	var all []time.Duration
	for _, mine := range latencies {
		all = append(all, mine...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	out := result{Requests: int64(len(all)), Errors: errors, Seconds: took, CPUs: spent,
		Rps: float64(len(all)) / took, P50us: percentile(all, 0.50), P99us: percentile(all, 0.99)}
	if first, ok := firstError.Load().(string); ok {
		out.Error = first
	}
	check(json.NewEncoder(os.Stdout).Encode(out))
}

func percentile(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return float64(sorted[int(q*float64(len(sorted)-1))].Nanoseconds()) / 1e3
}

func cpuSeconds() float64 {
	var usage syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &usage))
	return time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds()
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "grpcload:", err)
		os.Exit(1)
	}
}
