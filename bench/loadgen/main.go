// grpc-load: a small open-loop load generator for unary gRPC calls with pre-encoded requests.
//
// Why not only ghz: on the one CPU a 2-core machine leaves the load generator, ghz spends
// about 0.2 ms of CPU per Check (dynamic protobuf messages, a goroutine and stats per call),
// so near 5,000 requests/s it is the bottleneck and its own queueing shows up as the
// server's latency. This sends requests that were encoded once, by the benchmark, and never
// decodes more of a response than the status code: a few tens of microseconds per call.
//
// Open loop (-rps R): request i is due at start + i/R and is sent then, whatever earlier calls
// are doing; its latency is counted from when it was due (no coordinated omission).
// Closed loop (-rps 0): -c calls in flight, for -duration.
// Output: one JSON object (counts, allow/deny, percentiles in microseconds) on stdout.
//
// Serve (-serve host:port): instead of loading, answer every unary call with an OK
// CheckResponse and do no other work (grpc-go, one process): the floor of this machine and
// this generator, against which part 1 reads a Node server's tail.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// rawCodec passes pre-encoded request bytes through and keeps response bytes as they are.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	b, ok := v.(*[]byte)
	if !ok {
		return nil, errors.New("rawCodec: expected *[]byte")
	}
	return *b, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	b, ok := v.(*[]byte)
	if !ok {
		return errors.New("rawCodec: expected *[]byte")
	}
	*b = append((*b)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

// readRequests reads 4-byte big-endian length-prefixed messages.
func readRequests(path string) ([][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]byte
	var size [4]byte
	for {
		if _, err := io.ReadFull(f, size[:]); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		msg := make([]byte, binary.BigEndian.Uint32(size[:]))
		if _, err := io.ReadFull(f, msg); err != nil {
			return nil, err
		}
		out = append(out, msg)
	}
}

// allowed reads CheckResponse.status.code (field 1, then its field 1): 0 or absent allows.
func allowed(resp []byte) bool {
	if len(resp) < 2 || resp[0] != 0x0a {
		return true
	}
	n, k := binary.Uvarint(resp[1:])
	if k <= 0 || int(n) == 0 {
		return true
	}
	inner := resp[1+k:]
	if len(inner) < 2 || inner[0] != 0x08 {
		return true
	}
	code, _ := binary.Uvarint(inner[1:])
	return code == 0
}

// errLocalOverflow: a call this generator refused itself, never sent (-max-outstanding).
var errLocalOverflow = errors.New("refused by the client: max-outstanding calls in flight")

type result struct {
	latencyUs int64
	// From when the request was due to when this generator started the call: its own delay,
	// included in latencyUs, reported so a reader can tell the two apart.
	lagUs int64
	// When the answer arrived, from the start of the run: goodput counts only the answers of
	// the sending window, not those of the backlog drained after it.
	doneUs int64
	err    error
	allow  bool
}

func percentile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return -1
	}
	rank := int(float64(len(sorted))*q+0.999999) - 1
	if rank < 0 {
		rank = 0
	}
	if rank >= len(sorted) {
		rank = len(sorted) - 1
	}
	return sorted[rank]
}

// okResponse: CheckResponse { status: {} } (field 1, empty): an allow.
var okResponse = []byte{0x0a, 0x00}

// serve answers every call, whatever its method, with okResponse until the process is killed.
func serve(addr string) {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintf(os.Stderr, "grpc-load: %v\n", err)
		os.Exit(1)
	}
	server := grpc.NewServer(grpc.ForceServerCodec(rawCodec{}),
		grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			var req []byte
			if err := stream.RecvMsg(&req); err != nil {
				return err
			}
			resp := okResponse
			return stream.SendMsg(&resp)
		}))
	fmt.Fprintf(os.Stderr, "grpc-load: serving no-work Check on %s\n", lis.Addr())
	if err := server.Serve(lis); err != nil {
		fmt.Fprintf(os.Stderr, "grpc-load: %v\n", err)
		os.Exit(1)
	}
}

// writeDump writes one CSV line per open-loop call, in due order: due,lag,latency,ok (µs).
func writeDump(path string, dues []int64, results []result) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "due_us,lag_us,latency_us,ok")
	for i, r := range results {
		if i >= len(dues) {
			break
		}
		ok := 1
		if r.err != nil {
			ok = 0
		}
		fmt.Fprintf(w, "%d,%d,%d,%d\n", dues[i], r.lagUs, r.latencyUs, ok)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func main() {
	serveAddr := flag.String("serve", "", "host:port: serve a no-work Check instead of sending load")
	target := flag.String("target", "", "host:port")
	method := flag.String("method", "/envoy.service.auth.v3.Authorization/Check", "full method name")
	file := flag.String("requests", "", "file of 4-byte length-prefixed encoded requests, sent round robin")
	offset := flag.Int("offset", 0, "index of the first request to send")
	rps := flag.Int("rps", 0, "requests per second (open loop); 0: closed loop")
	total := flag.Int("n", 0, "requests to send in open loop (default rps x duration)")
	concurrency := flag.Int("c", 64, "calls in flight in closed loop")
	duration := flag.Duration("duration", 10*time.Second, "how long to send")
	timeout := flag.Duration("timeout", 5*time.Second, "deadline of each call")
	dump := flag.String("dump", "",
		"file: write every call as a CSV line (due, send lag, latency in microseconds from the start; ok 1/0), "+
			"for a tail profile; the start's Unix time in microseconds is in the JSON output")
	maxOutstanding := flag.Int("max-outstanding", 0,
		"open loop: calls in flight at most; a call past it fails at once as LocalOverflow, as Envoy's "+
			"circuit breaker (max_requests) fails an ext_authz call. 0: no bound")
	flag.Parse()
	if *serveAddr != "" {
		serve(*serveAddr)
		return
	}

	requests, err := readRequests(*file)
	if err != nil || len(requests) == 0 || *target == "" {
		fmt.Fprintf(os.Stderr, "grpc-load: need -target and a non-empty -requests file (%v)\n", err)
		os.Exit(2)
	}
	conn, err := grpc.NewClient(*target,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(rawCodec{})))
	if err != nil {
		fmt.Fprintf(os.Stderr, "grpc-load: %v\n", err)
		os.Exit(1)
	}
	defer conn.Close()
	conn.Connect()

	var start time.Time
	var outstanding atomic.Int64
	call := func(i int, due time.Time) result {
		if *maxOutstanding > 0 {
			if outstanding.Add(1) > int64(*maxOutstanding) {
				outstanding.Add(-1)
				now := time.Now()
				return result{
					latencyUs: now.Sub(due).Microseconds(),
					doneUs:    now.Sub(start).Microseconds(),
					err:       errLocalOverflow,
				}
			}
			defer outstanding.Add(-1)
		}
		lagUs := time.Since(due).Microseconds()
		req := requests[(*offset+i)%len(requests)]
		var resp []byte
		ctx, cancel := context.WithTimeout(context.Background(), *timeout)
		err := conn.Invoke(ctx, *method, &req, &resp)
		cancel()
		now := time.Now()
		return result{
			latencyUs: now.Sub(due).Microseconds(),
			lagUs:     lagUs,
			doneUs:    now.Sub(start).Microseconds(),
			err:       err,
			allow:     err == nil && allowed(resp),
		}
	}

	// One unmeasured call: the connection is up before the clock starts.
	if r := call(0, time.Now()); r.err != nil {
		fmt.Fprintf(os.Stderr, "grpc-load: first call failed: %v\n", r.err)
		os.Exit(1)
	}

	var results []result
	start = time.Now()
	dues := []int64(nil)
	window := *duration
	if *rps > 0 {
		n := *total
		if n == 0 {
			n = int(float64(*rps) * duration.Seconds())
		}
		window = time.Duration(n) * time.Second / time.Duration(*rps)
		results = make([]result, n)
		interval := time.Second / time.Duration(*rps)
		var wg sync.WaitGroup
		// The pacer runs on its own OS thread and waits with nanosleep: Go's own timers are
		// coarse (the netpoller waits in whole milliseconds) and spinning would starve the
		// goroutines reading responses. A second P lets those run while the pacer sleeps, so
		// sends land within tens of microseconds of their due time (sendLag in the output).
		runtime.GOMAXPROCS(max(2, runtime.GOMAXPROCS(0)))
		paced := make(chan struct{})
		go func() {
			runtime.LockOSThread()
			defer close(paced)
			for next := 0; next < n; {
				due := start.Add(time.Duration(next) * interval)
				if wait := time.Until(due); wait > 0 {
					ts := syscall.NsecToTimespec(int64(wait))
					syscall.Nanosleep(&ts, nil)
				}
				now := time.Now()
				for next < n {
					due := start.Add(time.Duration(next) * interval)
					if due.After(now) {
						break
					}
					wg.Add(1)
					if *dump != "" {
						dues = append(dues, due.Sub(start).Microseconds())
					}
					go func(i int, due time.Time) {
						defer wg.Done()
						results[i] = call(i, due)
					}(next, due)
					next++
				}
			}
		}()
		<-paced
		wg.Wait()
	} else {
		var mu sync.Mutex
		var wg sync.WaitGroup
		var counter atomic.Int64
		stop := start.Add(*duration)
		for w := 0; w < *concurrency; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]result, 0, 4096)
				for time.Now().Before(stop) {
					local = append(local, call(int(counter.Add(1)), time.Now()))
				}
				mu.Lock()
				results = append(results, local...)
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	elapsed := time.Since(start).Seconds()
	if *dump != "" {
		if err := writeDump(*dump, dues, results); err != nil {
			fmt.Fprintf(os.Stderr, "grpc-load: -dump: %v\n", err)
			os.Exit(1)
		}
	}

	latencies := make([]int64, 0, len(results))
	lags := make([]int64, 0, len(results))
	errorKinds := map[string]int{}
	// One message per status code, so a status nobody expected (Internal, say) can be traced
	// to where it came from: the server's grpc-status details, or the client transport's own
	// words (e.g. "stream terminated by RST_STREAM with error code: ...").
	errorSamples := map[string]string{}
	// How long a failed call took, from when it was due: tells a fast refusal from a client
	// that gave up at its deadline.
	errorLatencies := make([]int64, 0)
	allows, denies, windowAllows := 0, 0, 0
	windowUs := window.Microseconds()
	for _, r := range results {
		if r.err != nil {
			kind := status.Code(r.err).String()
			if r.err == errLocalOverflow {
				kind = "LocalOverflow"
			}
			errorKinds[kind]++
			errorLatencies = append(errorLatencies, r.latencyUs)
			if _, seen := errorSamples[kind]; !seen {
				errorSamples[kind] = status.Convert(r.err).Message()
			}
			continue
		}
		latencies = append(latencies, r.latencyUs)
		lags = append(lags, r.lagUs)
		if r.allow {
			allows++
			if r.doneUs <= windowUs {
				windowAllows++
			}
		} else {
			denies++
		}
	}
	sort.Slice(latencies, func(a, b int) bool { return latencies[a] < latencies[b] })
	sort.Slice(lags, func(a, b int) bool { return lags[a] < lags[b] })
	sort.Slice(errorLatencies, func(a, b int) bool { return errorLatencies[a] < errorLatencies[b] })
	errorsTotal := len(results) - len(latencies)
	out := map[string]any{
		"requests":     len(results),
		"ok":           len(latencies),
		"errors":       errorsTotal,
		"errorKinds":   errorKinds,
		"errorSamples": errorSamples,
		"allows":       allows,
		"denies":       denies,
		"elapsedSec":   elapsed,
		"windowSec":    window.Seconds(),
		"windowAllows": windowAllows,
		"rps":          float64(len(latencies)) / elapsed,
		"p50Us":        percentile(latencies, 0.5),
		"p99Us":        percentile(latencies, 0.99),
		"p999Us":       percentile(latencies, 0.999),
		"maxUs":        percentile(latencies, 1),
		"sendLagP50Us": percentile(lags, 0.5),
		"sendLagP99Us": percentile(lags, 0.99),
		"errorP50Us":   percentile(errorLatencies, 0.5),
		"errorP99Us":   percentile(errorLatencies, 0.99),
		"startUnixUs":  start.UnixMicro(),
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
