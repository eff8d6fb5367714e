// Package deploy holds the blue/green steps and the commands built from
// them (deploy, rollback, status, history). It is written only against the
// interfaces of packages platform, router, lock and history; which
// implementation runs is decided by the factory in package setup.
//
// The order of a deploy is the safety argument: the idle color is deployed
// and proven ready (and verified through the preview route) while the live
// color keeps serving; traffic moves in one write only after a last check
// right before it; the run commits only once the live system shows the new
// release serving after the bake. Any failure before that moment puts
// traffic back where it was.
package deploy
