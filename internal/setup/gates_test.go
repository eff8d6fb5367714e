package setup

import (
	"context"
	"errors"
	"testing"

	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/bluegreen-dev/bluegreen-action/internal/awsfake"
	"github.com/bluegreen-dev/bluegreen-action/internal/config"
)

// TestUnknownAlarmIsABadInput: a name that matches no CloudWatch alarm is
// refused before any write, naming gate-cloudwatch-alarms.
func TestUnknownAlarmIsABadInput(t *testing.T) {
	t.Parallel()
	cw := awsfake.NewCloudWatch()
	cw.PutAlarm("shop-5xx", false, cwtypes.StateValueOk)
	cfg := &config.Config{Gates: config.Gates{CloudWatchAlarms: config.List{"shop-5xx", "shop-typo"}}}
	_, err := gates(context.Background(), cfg, nil, cw)
	var ie *config.Error
	if !errors.As(err, &ie) || ie.Input != "gate-cloudwatch-alarms" {
		t.Fatalf("gates = %v, want a bad gate-cloudwatch-alarms", err)
	}
	cfg.Gates.CloudWatchAlarms = config.List{"shop-5xx"}
	if g, err := gates(context.Background(), cfg, nil, cw); err != nil || len(g) != 1 {
		t.Errorf("gates with a known alarm = %v, %v", g, err)
	}
}
