//go:build race

package pat

// raceEnabled: the race detector changes allocation counts.
const raceEnabled = true
