"""Protocol Buffers for the gRPC transport tests: grpctest.proto and its generated code."""
