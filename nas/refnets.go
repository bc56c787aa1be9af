package nas

import (
	"embed"
	"fmt"
	"path"
	"slices"
	"strings"
)

// refnetFS holds the reference networks of REFNETS.md as canonical genome
// files, refnets/NAME.json.
//
//go:embed refnets/*.json
var refnetFS embed.FS

// RefNetNames returns the names of the reference networks, sorted:
// "ghost-like", "mbv3-like".
func RefNetNames() []string {
	entries, _ := refnetFS.ReadDir("refnets")
	var names []string
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), ".json"))
	}
	slices.Sort(names)
	return names
}

// RefNet returns the reference network of that name as a genome.
func RefNet(name string) (Genome, error) {
	data, err := refnetFS.ReadFile(path.Join("refnets", name+".json"))
	if err != nil {
		return Genome{}, fmt.Errorf("nas: no reference network %q (have %s)", name, strings.Join(RefNetNames(), ", "))
	}
	return Parse(data)
}
