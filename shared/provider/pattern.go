package provider

import (
	"regexp"
	"sync"
)

// pattern is a regular expression compiled on first use, with an optional length bound. Every
// function links this package, and most never check input: compiling at init would cost each
// cold start. Long counted repeats ({1,512}) are written as + with maxLen instead, because Go
// expands counted repeats into large programs.
type pattern struct {
	expr   string
	maxLen int // 0: no bound beyond the expression's
	once   sync.Once
	re     *regexp.Regexp
}

func newPattern(expr string, maxLen int) *pattern { return &pattern{expr: expr, maxLen: maxLen} }

// MatchString reports whether s matches.
func (p *pattern) MatchString(s string) bool {
	if p.maxLen > 0 && len(s) > p.maxLen {
		return false
	}
	p.once.Do(func() { p.re = regexp.MustCompile(p.expr) })
	return p.re.MatchString(s)
}
