package metrics_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/peergroups/peergroups/internal/metrics"
)

// The line is what CloudWatch Logs reads as a metric: the _aws block names a metric
// and its dimension, and both are members of the same JSON object.
func TestWriteIsEmbeddedMetricFormat(t *testing.T) {
	var out bytes.Buffer
	at := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
	if err := metrics.Write(&out, "pg-reminders", "StalledRounds", 2, "Count", at); err != nil {
		t.Fatal(err)
	}
	if bytes.Count(out.Bytes(), []byte("\n")) != 1 {
		t.Fatalf("want one line, got %q", out.String())
	}
	var line struct {
		AWS struct {
			Timestamp         int64
			CloudWatchMetrics []struct {
				Namespace  string
				Dimensions [][]string
				Metrics    []struct{ Name, Unit string }
			}
		} `json:"_aws"`
		Function      string
		StalledRounds float64
	}
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatal(err)
	}
	m := line.AWS.CloudWatchMetrics
	if line.AWS.Timestamp != at.UnixMilli() || len(m) != 1 || m[0].Namespace != "PeerGroups" ||
		len(m[0].Dimensions) != 1 || len(m[0].Dimensions[0]) != 1 || m[0].Dimensions[0][0] != "Function" ||
		len(m[0].Metrics) != 1 || m[0].Metrics[0].Name != "StalledRounds" || m[0].Metrics[0].Unit != "Count" {
		t.Errorf("not the metric: %s", out.String())
	}
	if line.Function != "pg-reminders" || line.StalledRounds != 2 {
		t.Errorf("dimension or value missing: %s", out.String())
	}
}
