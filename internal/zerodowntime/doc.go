// Package zerodowntime proves, with real traffic, that a switch loses no
// request: a real HAProxy (Debian's package) in front of real HTTP servers
// for each color, a real Prometheus scraping HAProxy's exporter, a load
// generator sending a steady stream through HAProxy, and bluegreen itself,
// built by package setup from inputs as the binary builds it, deploying,
// stepping and rolling back. A control stops the live servers with the
// same harness, to show the harness can see downtime.
package zerodowntime
