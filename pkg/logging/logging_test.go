package logging

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestJSONOneEventPerLine(t *testing.T) {
	var b strings.Builder
	log, level, err := New(&b, Config{Level: "info", Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden")
	log.Info("first", "key", "multi\nline")
	level.Set(slog.LevelDebug)
	log.Debug("second")
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines (debug dropped until the level changed), got %q", b.String())
	}
	var ev map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &ev); err != nil || ev["msg"] != "first" || ev["key"] != "multi\nline" {
		t.Fatalf("line 1 %q: %v %v", lines[0], ev, err)
	}
}

func TestConfigErrors(t *testing.T) {
	if _, _, err := New(&strings.Builder{}, Config{Level: "loud", Format: "text"}); err == nil {
		t.Fatal("unknown level accepted")
	}
	err := Config{Level: "loud", Format: "xml"}.Validate()
	if err == nil || !strings.Contains(err.Error(), "level: unknown log level") || !strings.Contains(err.Error(), `format: unknown log format "xml"`) {
		t.Fatalf("Validate = %v", err)
	}
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
}
