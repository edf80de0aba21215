package lint

import (
	"crypto/sha256"
	"sort"
)

// Peers is the cross-server index: the tool names of every configured
// server by lower-cased name (shadowing), by skeleton (confusable names)
// and by server. It is built once per check cycle (NewPeers) and shared,
// read-only, by every server's lint, so a cycle over n servers costs
// O(total tools) rather than n × total tools. A Peers is safe for
// concurrent use.
type Peers struct {
	tools    []ToolRef
	byServer map[string][]string
	byLower  map[string][]ToolRef
	// bySkeleton holds, per skeleton, the distinct names having it in
	// name order, each with its servers in the order of their "where"
	// text, so a lookup takes the first entry not excluded.
	bySkeleton map[string][]skelName
	heads      map[string]bool
	digest     [32]byte
}

// skelName is one distinct tool name under a skeleton and the servers
// that have it, sorted by their where text (`server "x"`).
type skelName struct {
	name    string
	servers []string
}

// NewPeers indexes tools (the tools of every configured server; the
// linted server's own may be included, see Context.Server).
func NewPeers(tools []ToolRef) *Peers {
	p := &Peers{
		tools:      tools,
		byServer:   map[string][]string{},
		byLower:    map[string][]ToolRef{},
		bySkeleton: map[string][]skelName{},
		heads:      map[string]bool{},
	}
	h := sha256.New()
	seen := map[ToolRef]bool{}
	for _, t := range tools {
		h.Write([]byte(t.Server))
		h.Write([]byte{0})
		h.Write([]byte(t.Name))
		h.Write([]byte{1})
		if seen[t] {
			continue
		}
		seen[t] = true
		p.byServer[t.Server] = append(p.byServer[t.Server], t.Name)
		if l := lowerName(t.Name); l != "" {
			if _, ok := p.byLower[l]; !ok {
				p.heads[firstWord(l)] = true
			}
			p.byLower[l] = append(p.byLower[l], t)
		}
		sk := skeleton(t.Name)
		names := p.bySkeleton[sk]
		i := sort.Search(len(names), func(i int) bool { return names[i].name >= t.Name })
		if i == len(names) || names[i].name != t.Name {
			names = append(names, skelName{})
			copy(names[i+1:], names[i:])
			names[i] = skelName{name: t.Name}
			p.bySkeleton[sk] = names
		}
		names[i].servers = append(names[i].servers, t.Server)
	}
	h.Sum(p.digest[:0])
	for _, names := range p.bySkeleton {
		for _, n := range names {
			sort.Slice(n.servers, func(i, j int) bool { return where(n.servers[i]) < where(n.servers[j]) })
		}
	}
	return p
}

// Tools returns the tools p was built from.
func (p *Peers) Tools() []ToolRef {
	if p == nil {
		return nil
	}
	return p.tools
}

// Digest identifies p's tools (servers, names and order): equal digests
// mean the same lint context for every server.
func (p *Peers) Digest() [32]byte {
	if p == nil {
		return [32]byte{}
	}
	return p.digest
}

// where is how a tool of another server is named in a message.
func where(server string) string { return `server "` + server + `"` }

// prepared is what one Context derives from its names, shared by every
// lint run in that context (see Prepare).
type prepared struct {
	peers *Peers
	// ownLower holds the lower-cased names the context gives this server
	// (Peers entries of Context.Server).
	ownLower map[string]bool
	// heads holds the first words of ownLower and "mcp"; peers.heads has
	// the others.
	heads map[string]bool
	// baseline maps a skeleton to the baseline names having it, sorted.
	baseline map[string][]string
}

// Prepare returns ctx with its name indexes built, for a caller that lints
// many texts in one context (drift's hook calls Text once per changed
// field): without it every call indexes every known name again, which
// makes a diff of many renamed tools quadratic. The result must not be
// changed afterwards (its OtherTools, Peers and BaselineNames are read
// once, here).
func Prepare(ctx Context) Context {
	if ctx.prep == nil {
		ctx.prep = prepare(ctx)
	}
	return ctx
}

func prepare(ctx Context) *prepared {
	pr := &prepared{peers: ctx.Peers, ownLower: map[string]bool{}, heads: map[string]bool{"mcp": true}}
	if pr.peers == nil {
		pr.peers = NewPeers(ctx.OtherTools)
	}
	if ctx.Server != "" {
		for _, n := range pr.peers.byServer[ctx.Server] {
			if l := lowerName(n); l != "" {
				pr.ownLower[l] = true
				pr.heads[firstWord(l)] = true
			}
		}
	}
	if len(ctx.BaselineNames) > 0 {
		pr.baseline = map[string][]string{}
		for _, b := range ctx.BaselineNames {
			sk := skeleton(b)
			pr.baseline[sk] = append(pr.baseline[sk], b)
		}
		for _, names := range pr.baseline {
			sort.Strings(names)
		}
	}
	return pr
}

// confusable returns the known name sharing name's skeleton sk that a
// finding names, and where it is: of the names other than name, the least
// one, and of its places the least by their text (as a sorted list of
// every (name, where) pair would give). mine holds this manifest's tool
// names by skeleton.
func (c *checker) confusable(name, sk string, mine map[string][]string) (nameRef, bool) {
	var best nameRef
	found := false
	consider := func(n, w string) {
		if n == name {
			return
		}
		if !found || n < best.name || n == best.name && w < best.where {
			best, found = nameRef{n, w}, true
		}
	}
	for _, n := range mine[sk] {
		if n != name {
			consider(n, "this server")
			break
		}
	}
	for _, n := range c.prep.baseline[sk] {
		if n != name {
			consider(n, "the baseline")
			break
		}
	}
	for _, sn := range c.prep.peers.bySkeleton[sk] {
		if sn.name == name {
			continue
		}
		for _, s := range sn.servers {
			if c.ctx.Server != "" && s == c.ctx.Server {
				consider(sn.name, "this server")
			} else {
				consider(sn.name, where(s))
				break // servers are sorted by where: the rest are greater
			}
		}
		break
	}
	return best, found
}
