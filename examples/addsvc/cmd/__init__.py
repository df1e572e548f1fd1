"""The two programs of addsvc: the server (`addsvc`) and its command-line client (`addcli`)."""
