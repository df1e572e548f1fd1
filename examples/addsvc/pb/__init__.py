"""Protocol Buffers of addsvc: addsvc.proto and the code `make proto` generates from it."""
