package probe

import (
	"net/netip"
	"net/url"
	"testing"
)

func TestClassifyAddr(t *testing.T) {
	tests := []struct {
		addr string
		want netClass
	}{
		{"8.8.8.8", netPublic},
		{"2606:4700::1111", netPublic},
		{"127.0.0.1", netLoopback},
		{"127.1.2.3", netLoopback},
		{"::1", netLoopback},
		{"::ffff:127.0.0.1", netLoopback}, // IPv4-mapped
		{"64:ff9b::7f00:1", netLoopback},  // NAT64 of 127.0.0.1
		{"10.0.0.1", netPrivate},
		{"172.16.5.4", netPrivate},
		{"192.168.1.1", netPrivate},
		{"100.64.0.1", netPrivate}, // carrier-grade NAT
		{"fd12:3456::1", netPrivate},
		{"169.254.1.1", netLinkLocal},
		{"fe80::1", netLinkLocal},
		{"fe80::1%eth0", netLinkLocal},
		{"169.254.169.254", netMetadata},
		{"::ffff:169.254.169.254", netMetadata},
		{"fd00:ec2::254", netMetadata},
		{"100.100.100.200", netMetadata},
		{"0.0.0.0", netReserved},
		{"0.1.2.3", netReserved},
		{"::", netReserved},
		{"224.0.0.1", netReserved},
		{"ff02::1", netReserved},
		{"255.255.255.255", netReserved},
		{"240.0.0.1", netReserved},
		{"192.0.2.10", netReserved},
		{"2001:db8::1", netReserved},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			if got := classifyAddr(netip.MustParseAddr(tt.addr)); got != tt.want {
				t.Errorf("classifyAddr(%s) = %v, want %v", tt.addr, got, tt.want)
			}
		})
	}
}

func TestFetchRule(t *testing.T) {
	tests := []struct {
		name         string
		server, to   netClass
		own, overTLS bool
		want         string // "" allowed, else the recorded error
	}{
		{"public server, public https authorization server", netPublic, netPublic, false, true, ""},
		{"public server, plain HTTP authorization server", netPublic, netPublic, false, false,
			"not fetched: plain HTTP to a public address (an authorization server needs https)"},
		{"public server, its own plain HTTP origin", netPublic, netPublic, true, false, ""},
		{"public server, loopback", netPublic, netLoopback, false, true,
			"not fetched: a loopback address (the MCP server is on a public address)"},
		{"public server, own origin rebound to loopback", netPublic, netLoopback, true, false,
			"not fetched: a loopback address (the MCP server is on a public address)"},
		{"public server, private network", netPublic, netPrivate, false, true,
			"not fetched: a private network address (the MCP server is on a public address)"},
		{"loopback server, loopback", netLoopback, netLoopback, false, false, ""},
		{"loopback server, public https", netLoopback, netPublic, false, true, ""},
		{"loopback server, public plain HTTP", netLoopback, netPublic, false, false,
			"not fetched: plain HTTP to a public address (an authorization server needs https)"},
		{"loopback server, private network", netLoopback, netPrivate, false, false,
			"not fetched: a private network address (the MCP server is on a loopback address)"},
		{"private server, private network", netPrivate, netPrivate, false, false, ""},
		{"private server, loopback", netPrivate, netLoopback, false, false,
			"not fetched: a loopback address (the MCP server is on a private network address)"},
		{"loopback server, link-local", netLoopback, netLinkLocal, false, true, "not fetched: a link-local address"},
		{"private server, cloud metadata", netPrivate, netMetadata, false, false, "not fetched: a cloud metadata address"},
		{"link-local server, its own link-local origin", netLinkLocal, netLinkLocal, true, false, "not fetched: a link-local address"},
		{"public server, reserved", netPublic, netReserved, false, true, "not fetched: a reserved or non-unicast address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if err := fetchRule(tt.server, tt.to, tt.own, tt.overTLS); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("fetchRule = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestCheckHost(t *testing.T) {
	public := fetchPolicy{server: netPublic, overTLS: true}
	tests := []struct {
		url  string
		want string
	}{
		{"https://metadata.google.internal/computeMetadata/v1/", "not fetched: a cloud metadata address"},
		{"https://METADATA.google.internal./", "not fetched: a cloud metadata address"},
		{"https://169.254.169.254/latest/meta-data/", "not fetched: a cloud metadata address"},
		{"https://[fe80::1]:8443/", "not fetched: a link-local address"},
		{"https://127.0.0.1:18283/internal/admin", "not fetched: a loopback address (the MCP server is on a public address)"},
		{"https://[::ffff:7f00:1]/", "not fetched: a loopback address (the MCP server is on a public address)"},
		{"https://auth.example.com/", ""}, // a name: checked when connected
		{"https://93.184.215.14/", ""},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			u, err := url.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if err := checkHost(u, public, classifyAddrPort); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("checkHost = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestUserAgent(t *testing.T) {
	tests := []struct {
		id   ClientIdentity
		want string
	}{
		{ClientIdentity{Name: "claude-code", Version: "1.0.43"}, "claude-code/1.0.43"},
		{ClientIdentity{Name: "Visual Studio Code", Version: "1.99.0"}, "Visual-Studio-Code/1.99.0"},
		{ClientIdentity{Name: "curs\u00f6r", Version: "1 (beta)"}, "curs-r/1--beta-"},
		{ClientIdentity{Name: "x", Version: "1", UserAgent: "Mozilla/5.0 (compatible) x/1"}, "Mozilla/5.0 (compatible) x/1"},
	}
	for _, tt := range tests {
		if got := userAgent(tt.id); got != tt.want {
			t.Errorf("userAgent(%+v) = %q, want %q", tt.id, got, tt.want)
		}
	}
}
