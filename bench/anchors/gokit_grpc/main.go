// Command gokit-grpc-sum is the Go kit anchor of pygokit's gRPC benchmark (bench/grpc_unary.py).
//
// It serves the unary Sum RPC of examples/addsvc/pb/addsvc.proto (SumRequest{a: 1, b: 2} ->
// SumReply{v: 3}) with Go kit 0.10's grpctransport.NewServer, the way Go kit's addsvc example
// does: a gRPC service whose Sum method hands the message to the Go kit handler, which decodes
// it into the endpoint's request, calls the endpoint and encodes the reply. The protobuf code
// (package addsvcpb) is generated at build time by bench/anchors/gokit_build.py. It runs on one
// OS thread for Go code (GOMAXPROCS=1) so that it is comparable with one Python process.
//
// Usage: gokit-grpc-sum -addr 127.0.0.1:PORT
package main

import (
	"context"
	"flag"
	stdlog "log"
	"net"
	"runtime"

	pb "addsvcpb"

	grpctransport "github.com/go-kit/kit/transport/grpc"
	"google.golang.org/grpc"
)

type sumRequest struct{ A, B int64 }

type sumResponse struct{ V int64 }

func sumEndpoint(_ context.Context, request interface{}) (interface{}, error) {
	req := request.(sumRequest)
	return sumResponse{V: req.A + req.B}, nil
}

func decodeSumRequest(_ context.Context, grpcReq interface{}) (interface{}, error) {
	req := grpcReq.(*pb.SumRequest)
	return sumRequest{A: req.A, B: req.B}, nil
}

func encodeSumReply(_ context.Context, response interface{}) (interface{}, error) {
	resp := response.(sumResponse)
	return &pb.SumReply{V: resp.V}, nil
}

// addServer implements the generated service interface with Go kit handlers, as addsvc does.
type addServer struct {
	pb.UnimplementedAddServer
	sum grpctransport.Handler
}

func (s *addServer) Sum(ctx context.Context, req *pb.SumRequest) (*pb.SumReply, error) {
	_, reply, err := s.sum.ServeGRPC(ctx, req)
	if err != nil {
		return nil, err
	}
	return reply.(*pb.SumReply), nil
}

func main() {
	addr := flag.String("addr", "127.0.0.1:50051", "address to listen on")
	flag.Parse()
	runtime.GOMAXPROCS(1)

	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		stdlog.Fatal(err)
	}
	server := grpc.NewServer()
	pb.RegisterAddServer(server, &addServer{
		sum: grpctransport.NewServer(sumEndpoint, decodeSumRequest, encodeSumReply),
	})
	stdlog.Fatal(server.Serve(listener))
}
