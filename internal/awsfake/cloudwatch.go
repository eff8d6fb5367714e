package awsfake

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/smithy-go"
)

// CloudWatch is a double of CloudWatch's DescribeAlarms as documented:
// names that match no alarm are simply absent from the answer; without
// AlarmTypes only metric alarms are returned; at most 100 names, and
// MaxRecords from 1 to 100 (50 by default) with NextToken paging; a name
// prefix cannot be combined with names. It is safe for concurrent use.
type CloudWatch struct {
	recorder

	mu     sync.Mutex
	alarms map[string]fakeAlarm
}

type fakeAlarm struct {
	composite bool
	state     types.StateValue
}

// NewCloudWatch returns a CloudWatch with no alarms.
func NewCloudWatch() *CloudWatch {
	return &CloudWatch{recorder: recorder{service: "CloudWatch", throttle: "Throttling"}, alarms: map[string]fakeAlarm{}}
}

// PutAlarm creates or updates an alarm in state st; composite makes it a
// composite alarm.
func (c *CloudWatch) PutAlarm(name string, composite bool, st types.StateValue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.alarms[name] = fakeAlarm{composite: composite, state: st}
}

// SetState moves an existing alarm to st, as CloudWatch's evaluation or
// SetAlarmState would.
func (c *CloudWatch) SetState(name string, st types.StateValue) {
	c.mu.Lock()
	defer c.mu.Unlock()
	a := c.alarms[name]
	a.state = st
	c.alarms[name] = a
}

func (c *CloudWatch) invalid(op, code, msg string) error {
	return c.fail(op, &smithy.GenericAPIError{Code: code, Message: msg, Fault: smithy.FaultClient})
}

// DescribeAlarms implements the call.
func (c *CloudWatch) DescribeAlarms(_ context.Context, in *cloudwatch.DescribeAlarmsInput, _ ...func(*cloudwatch.Options)) (*cloudwatch.DescribeAlarmsOutput, error) {
	const op = "DescribeAlarms"
	if err := c.call(op); err != nil {
		return nil, err
	}
	if len(in.AlarmNames) > 100 {
		return nil, c.invalid(op, "ValidationError", "1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100")
	}
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil {
		return nil, c.invalid(op, "InvalidParameterCombination", "AlarmNamePrefix and AlarmNames cannot be used together")
	}
	limit := int(aws.ToInt32(in.MaxRecords))
	if in.MaxRecords != nil && (limit < 1 || limit > 100) {
		return nil, c.invalid(op, "ValidationError", "MaxRecords must be between 1 and 100")
	}
	if limit == 0 {
		limit = 50
	}
	start := 0
	if t := aws.ToString(in.NextToken); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil || n < 0 {
			return nil, c.invalid(op, "InvalidNextToken", "The service couldn't process your request because the NextToken is invalid")
		}
		start = n
	}
	types_ := in.AlarmTypes
	if len(types_) == 0 {
		types_ = []types.AlarmType{types.AlarmTypeMetricAlarm}
	}
	c.mu.Lock()
	var names []string
	for n, a := range c.alarms {
		kind := types.AlarmTypeMetricAlarm
		if a.composite {
			kind = types.AlarmTypeCompositeAlarm
		}
		if !slices.Contains(types_, kind) {
			continue
		}
		if len(in.AlarmNames) > 0 && !slices.Contains(in.AlarmNames, n) {
			continue
		}
		if p := aws.ToString(in.AlarmNamePrefix); p != "" && (len(n) < len(p) || n[:len(p)] != p) {
			continue
		}
		if in.StateValue != "" && a.state != in.StateValue {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)
	out := &cloudwatch.DescribeAlarmsOutput{}
	end := min(len(names), start+limit)
	for _, n := range names[min(start, len(names)):end] {
		a := c.alarms[n]
		if a.composite {
			out.CompositeAlarms = append(out.CompositeAlarms, types.CompositeAlarm{AlarmName: aws.String(n), StateValue: a.state})
		} else {
			out.MetricAlarms = append(out.MetricAlarms, types.MetricAlarm{AlarmName: aws.String(n), StateValue: a.state})
		}
	}
	c.mu.Unlock()
	if end < len(names) {
		out.NextToken = aws.String(fmt.Sprint(end))
	}
	return out, nil
}
