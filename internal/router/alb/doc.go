// Package alb switches traffic with the weighted forward action of an
// Application Load Balancer listener, or of one of its rules: each color
// has its own target group, and a switch is one ModifyListener (or
// ModifyRule) that forwards to both target groups with the new weights.
//
// Both target groups stay in the forward action, the idle one at weight
// 0, so that the load balancer keeps health-checking the idle color and a
// rollback is one write. Other actions of the listener (authentication)
// are read and written back as they were, and so is the forward's
// target-group stickiness while traffic is split. A write that sends all
// traffic to one color disables that stickiness, whoever enabled it: on an
// ALB stickiness takes precedence over weights, and a client holding the
// cookie of the group at weight 0 would otherwise keep reaching it.
//
// The listener must forward to at least one color's target group before
// the first run: bluegreen never takes over a listener that sends traffic
// elsewhere. ELBv2 has no conditional writes, so a change made by someone
// else between the read and the write of Set is overwritten; the read-back
// after the write reports it as router.ErrConflict when it sees it.
//
// A test listener (Config.TestListenerARN) is a second router of the same
// kind: the deploy points it at the idle color before verification.
package alb
