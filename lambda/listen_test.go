package main

import (
	"net"
	"strings"
	"testing"
)

// A busy port fails with the hint to set PORT, before anything serves.
func TestListenBusyPort(t *testing.T) {
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	port := held.Addr().(*net.TCPAddr).Port
	if ln, err := listen(port); err == nil {
		ln.Close()
		t.Fatal("listen on a busy port succeeded")
	} else if !strings.Contains(err.Error(), "already in use") || !strings.Contains(err.Error(), "PORT=") {
		t.Errorf("error %q, want it to say the port is in use and how to pick another (PORT=)", err)
	}
	held.Close()
	ln, err := listen(port)
	if err != nil {
		t.Fatalf("listen on a free port: %v", err)
	}
	ln.Close()
}
