package drift

import (
	"fmt"

	"github.com/mcpdrift/mcpdrift/internal/manifest"
	"github.com/mcpdrift/mcpdrift/internal/report"
)

// capabilityOf names the server capability that advertises each list.
var capabilityOf = map[manifest.Kind]string{
	manifest.KindTool:             "tools",
	manifest.KindPrompt:           "prompts",
	manifest.KindResource:         "resources",
	manifest.KindResourceTemplate: "resources",
}

// unadvertised lists the kinds m serves entities of without advertising
// their capability. The probe lists everything, as the reference clients
// do, so what such a server serves reaches clients all the same.
func unadvertised(m *manifest.Manifest) map[manifest.Kind]bool {
	out := map[manifest.Kind]bool{}
	server := decodeObject(m.Server)
	caps, _ := server["capabilities"].(map[string]any)
	for _, k := range manifest.Kinds {
		if len(m.Entities[k]) == 0 {
			continue
		}
		if c, ok := caps[capabilityOf[k]]; !ok || c == nil {
			out[k] = true
		}
	}
	return out
}

// unadvertisedChange reports a server that starts serving a list without
// its capability: high, since a client that lists regardless sees it while
// a client (or reviewer) going by the capabilities does not. The entities
// themselves are compared as usual, so a capability that disappears while
// its list still answers is never a removal.
func (d *differ) unadvertisedChange(base, snap *manifest.Manifest) {
	before, now := unadvertised(base), unadvertised(snap)
	for _, k := range manifest.Kinds {
		if !now[k] || before[k] {
			continue
		}
		noun := entityNoun(string(k)) + "s"
		c := report.Change{
			Kind:   KindServerUnadvertised,
			Entity: manifest.EntityServer,
			Name:   manifest.EntityServer,
			Path:   "capabilities." + capabilityOf[k],
			Before: "",
			After:  fmt.Sprintf("%d %s", len(snap.Entities[k]), noun),
			Summary: oneLine(fmt.Sprintf("server: serves %d %s without advertising the %s capability (clients list them all the same)",
				len(snap.Entities[k]), noun, capabilityOf[k])),
		}
		d.finish(&c, d.levels[KindServerUnadvertised], manifest.EntityServer, "", false)
	}
}

// Unadvertised reports, for a server seen for the first time (no baseline
// to compare with), every list m serves without advertising its
// capability: the same high server.unadvertised change Diff reports when
// a server starts doing so, since a first sight trusted on first use
// would otherwise make it the baseline unnoticed.
func Unadvertised(m *manifest.Manifest, p Policy) []report.Change {
	if m == nil {
		return nil
	}
	d := newDiffer(p)
	d.unadvertisedChange(&manifest.Manifest{}, m)
	sortChanges(d.out)
	return d.out
}
