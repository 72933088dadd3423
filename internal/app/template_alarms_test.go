package app_test

import (
	"fmt"
	"testing"

	"github.com/peergroups/peergroups/internal/metrics"
)

// --- 9. someone is told ------------------------------------------------------------------

// Every alarm tells the operators (AlarmTopic, which AlarmEmail subscribes to); every
// function has an alarm on its errors; SES's bounce and complaint rates are watched
// before SES's own review levels (5 % and 0.1 %); and a stalled round raises an alarm
// on the metric the reminders function publishes, under the namespace it uses.
func TestTemplateAlarmsTellTheOperators(t *testing.T) {
	t.Parallel()
	tpl := loadTemplate(t)
	alarms := tpl.ofType("AWS::CloudWatch::Alarm")
	if len(alarms) == 0 {
		t.Fatal("template.yaml has no alarm")
	}
	type watched struct{ namespace, metric, dimension string }
	found := map[watched]map[string]any{}
	for _, id := range alarms {
		props := tpl.Resources[id].Properties
		if !namesResource(props["AlarmActions"], "AlarmTopic") {
			t.Errorf("%s does not notify AlarmTopic: nobody would hear of it", id)
		}
		w := watched{namespace: fmt.Sprint(props["Namespace"]), metric: fmt.Sprint(props["MetricName"])}
		for _, d := range yamlList(props["Dimensions"]) {
			if r, ok := yamlAt(d, "Value", "Ref").(string); ok {
				w.dimension = fmt.Sprint(yamlAt(d, "Name")) + "=" + r
			}
		}
		found[w] = props
	}
	for _, fn := range tpl.functions(t) {
		props, ok := found[watched{"AWS/Lambda", "Errors", "FunctionName=" + fn}]
		if !ok {
			t.Errorf("no alarm on %s's errors", fn)
			continue
		}
		if th := fmt.Sprint(props["Threshold"]); th != "1" {
			t.Errorf("%s's errors alarm fires at %s errors, want the first", fn, th)
		}
	}
	for metric, limit := range map[string]string{"Reputation.BounceRate": "0.04", "Reputation.ComplaintRate": "0.0008"} {
		props, ok := found[watched{"AWS/SES", metric, ""}]
		if !ok {
			t.Errorf("no alarm on SES's %s", metric)
			continue
		}
		if th := fmt.Sprint(props["Threshold"]); th != limit || props["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" {
			t.Errorf("the %s alarm fires at %s %v, want at or over %s", metric, props["ComparisonOperator"], th, limit)
		}
	}
	if _, ok := found[watched{metrics.Namespace, "StalledRounds", "Function=RemindersFunction"}]; !ok {
		t.Errorf("no alarm on %s/StalledRounds of the RemindersFunction, the metric the reminders function publishes", metrics.Namespace)
	}
}
