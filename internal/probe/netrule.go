package probe

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"syscall"
)

// The OAuth discovery rule (docs/identity.md, "OAuth discovery rules").
// A server chooses the URLs of its metadata and of its authorization
// servers; without a rule it could make mcpdrift GET any service mcpdrift
// can reach (blind SSRF). Every metadata request is checked against the
// rule at the moment its connection is made, on the address actually
// connected to, so a name that resolves (or is rebound) to a forbidden
// address is refused too. A refusal means that no packet is sent to the
// address.

// netClass is the kind of network an IP address is on.
type netClass int

const (
	netPublic netClass = iota
	netPrivate
	netLoopback
	netLinkLocal
	netMetadata // a cloud provider's instance metadata service
	netReserved // unspecified, multicast, broadcast, documentation, reserved
)

func (c netClass) String() string {
	switch c {
	case netPublic:
		return "a public address"
	case netPrivate:
		return "a private network address"
	case netLoopback:
		return "a loopback address"
	case netLinkLocal:
		return "a link-local address"
	case netMetadata:
		return "a cloud metadata address"
	}
	return "a reserved or non-unicast address"
}

// Addresses and names of cloud instance metadata services: AWS, GCP,
// Azure, Oracle, OpenStack, DigitalOcean (169.254.169.254), AWS over IPv6
// (fd00:ec2::254), Alibaba (100.100.100.200).
var (
	metadataAddrs = []netip.Addr{
		netip.MustParseAddr("169.254.169.254"),
		netip.MustParseAddr("fd00:ec2::254"),
		netip.MustParseAddr("100.100.100.200"),
	}
	metadataHosts = []string{"metadata.google.internal"}
)

// Ranges that are not public although Go calls them global unicast.
var (
	sharedRange   = netip.MustParsePrefix("100.64.0.0/10") // carrier-grade NAT: a private network
	nat64Range    = netip.MustParsePrefix("64:ff9b::/96")  // embeds an IPv4 address
	reservedRange = []netip.Prefix{
		netip.MustParsePrefix("0.0.0.0/8"), // "this network": 0.x connects to the host itself
		netip.MustParsePrefix("192.0.0.0/24"),
		netip.MustParsePrefix("192.0.2.0/24"),
		netip.MustParsePrefix("198.18.0.0/15"),
		netip.MustParsePrefix("198.51.100.0/24"),
		netip.MustParsePrefix("203.0.113.0/24"),
		netip.MustParsePrefix("240.0.0.0/4"),
		netip.MustParsePrefix("100::/64"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("fec0::/10"), // deprecated site-local
	}
)

// classifyAddr returns the class of a (just resolved) address.
func classifyAddr(a netip.Addr) netClass {
	a = a.Unmap().WithZone("")
	if nat64Range.Contains(a) {
		b := a.As16()
		a = netip.AddrFrom4([4]byte(b[12:]))
	}
	switch {
	case !a.IsValid():
		return netReserved
	case isMetadataAddr(a):
		return netMetadata
	case a.IsLoopback():
		return netLoopback
	case a.IsLinkLocalUnicast():
		return netLinkLocal
	case a.IsPrivate(), sharedRange.Contains(a):
		return netPrivate
	case !a.IsGlobalUnicast():
		return netReserved
	}
	for _, p := range reservedRange {
		if p.Contains(a) {
			return netReserved
		}
	}
	return netPublic
}

func isMetadataAddr(a netip.Addr) bool {
	for _, m := range metadataAddrs {
		if a == m {
			return true
		}
	}
	return false
}

func isMetadataHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	for _, h := range metadataHosts {
		if host == h {
			return true
		}
	}
	return false
}

// refusedError is a metadata request the rule refused before any packet
// was sent. Its text is recorded in the snapshot: it must be stable.
type refusedError struct{ reason string }

func (e *refusedError) Error() string { return "not fetched: " + e.reason }

// fetchRule is the rule. server is the class of the MCP server's own
// address, to the class of the address a metadata request would connect
// to; own tells that the request goes to the MCP server's own origin (its
// protected resource metadata), overTLS that it is an https request.
//
//   - never to link-local, cloud metadata or reserved addresses;
//   - to public addresses, over https (plain HTTP only on the server's own
//     origin, which the MCP session already uses);
//   - to loopback only for a loopback server, to a private network only
//     for a server on a private network: a server cannot steer mcpdrift
//     into a network it is not on itself.
func fetchRule(server, to netClass, own, overTLS bool) error {
	switch {
	case to == netLinkLocal || to == netMetadata || to == netReserved:
		return &refusedError{reason: to.String()}
	case to == netPublic && !overTLS && !own:
		return &refusedError{reason: "plain HTTP to a public address (an authorization server needs https)"}
	case to == netPublic, to == server:
		return nil
	}
	return &refusedError{reason: to.String() + " (the MCP server is on " + server.String() + ")"}
}

// addrClassifier classifies an address about to be connected to. The
// port lets tests treat one loopback listener as public.
type addrClassifier func(netip.AddrPort) netClass

func classifyAddrPort(ap netip.AddrPort) netClass { return classifyAddr(ap.Addr()) }

// fetchPolicy travels in a metadata request's context down to the dialer.
// MCP traffic has none: its URL is the operator's choice.
type fetchPolicy struct {
	server  netClass
	own     bool
	overTLS bool
	// proxied: the connection goes to the operator's proxy, which resolves
	// the target itself; the target was checked before (checkProxied).
	proxied bool
}

type fetchPolicyKey struct{}

func withFetchPolicy(ctx context.Context, p fetchPolicy) context.Context {
	return context.WithValue(ctx, fetchPolicyKey{}, p)
}

// guardedControl is the dialer's ControlContext: it applies the rule of
// the request's fetchPolicy to the address about to be connected to, after
// name resolution and before connect(2).
func guardedControl(classify addrClassifier) func(context.Context, string, string, syscall.RawConn) error {
	return func(ctx context.Context, _, address string, _ syscall.RawConn) error {
		pol, ok := ctx.Value(fetchPolicyKey{}).(fetchPolicy)
		if !ok || pol.proxied {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return &refusedError{reason: "unrecognised address"}
		}
		return fetchRule(pol.server, classify(ap), pol.own, pol.overTLS)
	}
}

// checkHost applies the rule to what the URL says, before any request: a
// cloud metadata name, or an IP literal. Names are checked when connected.
func checkHost(u *url.URL, pol fetchPolicy, classify addrClassifier) error {
	host := u.Hostname()
	if isMetadataHost(host) {
		return &refusedError{reason: netMetadata.String()}
	}
	if a, err := netip.ParseAddr(host); err == nil {
		return fetchRule(pol.server, classify(netip.AddrPortFrom(a, urlPort(u))), pol.own, pol.overTLS)
	}
	return nil
}

// checkProxied applies the rule to a request going through a proxy, which
// resolves the name itself: the name is resolved here too and every
// address must pass. A name that does not resolve here is left to the
// proxy (see docs/identity.md).
func checkProxied(ctx context.Context, u *url.URL, pol fetchPolicy, classify addrClassifier) error {
	if err := checkHost(u, pol, classify); err != nil {
		return err
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil {
		addrs = nil // left to the proxy, which may resolve names this host cannot
	}
	for _, a := range addrs {
		if err := fetchRule(pol.server, classify(netip.AddrPortFrom(a, urlPort(u))), pol.own, pol.overTLS); err != nil {
			return err
		}
	}
	return nil
}

// guard applies the rule to req before it is sent: to what its URL says,
// and, through a proxy, to every address its name resolves to here. It
// returns the context that carries the policy down to the dialer, which
// checks the address really connected to.
func guard(req *http.Request, pol fetchPolicy, classify addrClassifier, proxy func(*http.Request) (*url.URL, error)) (context.Context, error) {
	ctx := req.Context()
	if err := checkHost(req.URL, pol, classify); err != nil {
		return nil, err
	}
	if proxy != nil {
		if pu, err := proxy(req); err == nil && pu != nil {
			if err := checkProxied(ctx, req.URL, pol, classify); err != nil {
				return nil, err
			}
			pol.proxied = true
		}
	}
	return withFetchPolicy(ctx, pol), nil
}

// hostClass is the class of a server known only by its URL (reached
// through a proxy): that of every address its name resolves to here, or
// public (the strictest) when they differ or it does not resolve.
func hostClass(ctx context.Context, u *url.URL, classify addrClassifier) netClass {
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(u.Hostname()); err == nil {
		addrs = []netip.Addr{a}
	} else if addrs, err = net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname()); err != nil || len(addrs) == 0 {
		return netPublic
	}
	c := classify(netip.AddrPortFrom(addrs[0], urlPort(u)))
	for _, a := range addrs[1:] {
		if classify(netip.AddrPortFrom(a, urlPort(u))) != c {
			return netPublic
		}
	}
	return c
}

func urlPort(u *url.URL) uint16 {
	if p, err := strconv.ParseUint(u.Port(), 10, 16); err == nil {
		return uint16(p)
	}
	if u.Scheme == "https" {
		return 443
	}
	return 80
}
