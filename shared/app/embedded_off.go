//go:build lambda.norpc && !fleet_embedded

package app

import "errors"

// buildEmbedded: deployed functions are built without the embedded store (tag fleet_embedded adds
// it, as make invoke does), which keeps bbolt out of every deployed binary.
func (a *App) buildEmbedded() error {
	return errors.New("STORE=embedded is not in this build: deployed functions use STORE=aws (make invoke builds with -tags fleet_embedded)")
}
