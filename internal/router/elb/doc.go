// Package elb switches traffic on a classic Elastic Load Balancer by the
// instance port its listeners forward to.
//
// Each color runs on every registered instance behind its own instance
// port (on Kubernetes, a NodePort Service per color). The load balancer's
// tags "blue" and "green" hold the two ports, so the live color is read
// from the listeners themselves and never stored anywhere else. The
// listeners switched are those on the configured ports or, by default,
// every listener that forwards to one of the two color ports; a listener
// to any other instance port is not the application's and is left alone.
//
// A switch to a color, in order:
//
//  1. The health check is pointed at the color's port (its protocol, path
//     and thresholds kept), and the switch waits until every registered
//     instance is InService under it, for at least as long as the load
//     balancer needs to judge the new port (UnhealthyThreshold x Interval
//     + Timeout). The load balancer itself then vouches for the new color
//     while traffic still flows to the old one.
//  2. The listeners are moved one port at a time, by delete and create,
//     keeping protocols, certificate and policies.
//
// If the instances do not come InService, the health check is put back and
// the listeners are not touched. A failure while moving listeners puts the
// moved ones and the health check back.
//
// A classic load balancer has a single health check, and it decides
// where live traffic may go: while it points at the new color's port, an
// instance that fails it is taken out of service for the old color's
// traffic too. The platform's readiness wait before the switch makes that
// rare; when it happens, the switch puts the health check back as soon as
// it sees the first instance drop, not at the end of its timeout.
package elb
