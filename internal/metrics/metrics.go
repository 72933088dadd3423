// Package metrics publishes CloudWatch metrics the way a Lambda function does it most
// cheaply: as a log line in the embedded metric format, which CloudWatch Logs turns into
// a metric (no PutMetricData call, no extra permission).
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
package metrics

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Namespace is the CloudWatch namespace of the service's own metrics. Each is
// published with the function's name as its one dimension, so that two stacks in one
// account keep theirs apart; template.yaml's alarms name the same.
const Namespace = "PeerGroups"

// Write writes one metric's value as an embedded-metric-format line to w (the
// function's standard output).
func Write(w io.Writer, function, name string, value float64, unit string, at time.Time) error {
	line, err := json.Marshal(map[string]any{
		"_aws": map[string]any{
			"Timestamp": at.UnixMilli(),
			"CloudWatchMetrics": []map[string]any{{
				"Namespace":  Namespace,
				"Dimensions": [][]string{{"Function"}},
				"Metrics":    []map[string]string{{"Name": name, "Unit": unit}},
			}},
		},
		"Function": function,
		name:       value,
	})
	if err != nil {
		return fmt.Errorf("encode metric %s: %w", name, err)
	}
	_, err = fmt.Fprintf(w, "%s\n", line)
	return err
}
