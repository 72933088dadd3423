// Package councils holds the UK local authorities data (mySociety, MIT licence; the
// CSV is in data/). The current councils are compiled into the binary as a Go table,
// generated from the CSV, so that neither start-up nor the council picker costs
// anything: `go test ./internal/councils -update` regenerates it after the CSV changes.
package councils

import (
	"encoding/csv"
	"fmt"
	"io"

	pg "github.com/peergroups/peergroups/internal/peergroups"
)

// Load returns the current councils, sorted by name.
func Load() (*pg.Councils, error) {
	return pg.NewCouncils(current), nil
}

// Parse reads the CSV, keeping rows whose current-authority column is True.
func Parse(r io.Reader) ([]pg.Council, error) {
	cr := csv.NewReader(r)
	header, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("read councils header: %w", err)
	}
	col := map[string]int{}
	for i, name := range header {
		col[name] = i
	}
	for _, need := range []string{"local-authority-code", "official-name", "nation", "region", "current-authority"} {
		if _, ok := col[need]; !ok {
			return nil, fmt.Errorf("councils data has no %q column", need)
		}
	}
	var list []pg.Council
	for {
		row, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read councils: %w", err)
		}
		if row[col["current-authority"]] != "True" {
			continue
		}
		list = append(list, pg.Council{
			Code:   row[col["local-authority-code"]],
			Name:   row[col["official-name"]],
			Nation: row[col["nation"]],
			Region: row[col["region"]],
		})
	}
	return list, nil
}
