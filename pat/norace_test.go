//go:build !race

package pat

const raceEnabled = false
