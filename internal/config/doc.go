// Package config loads the run's inputs from the environment and validates
// them before anything is written anywhere.
//
// Every input can be given as a GitHub Action input (the runner passes
// `wait-timeout` as INPUT_WAIT-TIMEOUT, hyphen kept) or, in any other CI, as
// BLUEGREEN_WAIT_TIMEOUT. A non-empty action input wins.
package config
