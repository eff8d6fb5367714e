package gate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

// AlarmsAPI is the part of CloudWatch the alarm gate calls.
type AlarmsAPI interface {
	DescribeAlarms(ctx context.Context, in *cloudwatch.DescribeAlarmsInput, opts ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error)
}

// maxAlarmNames is how many names one DescribeAlarms call may carry.
const maxAlarmNames = 100

// Alarms fails when any of the named CloudWatch alarms, metric or
// composite, is in state ALARM.
type Alarms struct {
	API   AlarmsAPI
	Names []string
}

var _ Gate = (*Alarms)(nil)

func (a *Alarms) String() string { return "cloudwatch alarms " + strings.Join(a.Names, ",") }

// states returns the state of each named alarm that exists.
func (a *Alarms) states(ctx context.Context) (map[string]types.StateValue, error) {
	out := map[string]types.StateValue{}
	for start := 0; start < len(a.Names); start += maxAlarmNames {
		names := a.Names[start:min(len(a.Names), start+maxAlarmNames)]
		in := &cloudwatch.DescribeAlarmsInput{
			AlarmNames: names,
			// Without AlarmTypes only metric alarms are returned.
			AlarmTypes: []types.AlarmType{types.AlarmTypeMetricAlarm, types.AlarmTypeCompositeAlarm},
		}
		for {
			page, err := a.API.DescribeAlarms(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("describing CloudWatch alarms: %w", err)
			}
			for _, m := range page.MetricAlarms {
				out[aws.ToString(m.AlarmName)] = m.StateValue
			}
			for _, c := range page.CompositeAlarms {
				out[aws.ToString(c.AlarmName)] = c.StateValue
			}
			if aws.ToString(page.NextToken) == "" {
				break
			}
			in.NextToken = page.NextToken
		}
	}
	return out, nil
}

// Validate checks that every name is an alarm.
func (a *Alarms) Validate(ctx context.Context) error {
	states, err := a.states(ctx)
	if err != nil {
		return err
	}
	var missing []string
	for _, n := range a.Names {
		if _, ok := states[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no CloudWatch alarm named %q in this account and region", ErrUnknownAlarm, missing)
	}
	return nil
}

// Check reads the state of every alarm.
func (a *Alarms) Check(ctx context.Context) (Reading, error) {
	states, err := a.states(ctx)
	if err != nil {
		return Reading{}, err
	}
	var parts []string
	failing := false
	for _, n := range slices.Sorted(slices.Values(a.Names)) {
		st, ok := states[n]
		if !ok {
			st = "MISSING"
			failing = true // deleted since the run began: cannot tell
		}
		if st == types.StateValueAlarm {
			failing = true
		}
		parts = append(parts, n+"="+string(st))
	}
	return Reading{Value: strings.Join(parts, ", "), Failing: failing}, nil
}
