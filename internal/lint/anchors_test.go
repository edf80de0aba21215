package lint

import "testing"

// Every phrase must have anchors, or it would never run.
func TestPhrasesHaveAnchors(t *testing.T) {
	for i, p := range phrases {
		if len(p.words) == 0 && len(p.subs) == 0 {
			t.Errorf("phrase %d (%s %q) has no lead words or strings", i, p.rule, p.msg)
		}
	}
	if len(phrases) > 1<<16 {
		t.Fatalf("%d phrases overflow anchorHit.phrase", len(phrases))
	}
}

// Literal anchors are found by their first byte outside words, so none may
// start with a letter or digit.
func TestLiteralAnchorsStartWithPunctuation(t *testing.T) {
	for _, p := range phrases {
		for _, sub := range p.subs {
			c := sub[0]
			if isASCIILetter(c) || ('0' <= c && c <= '9') {
				t.Errorf("phrase %s %q: literal anchor %q starts with a word character", p.rule, p.msg, sub)
			}
		}
	}
}
