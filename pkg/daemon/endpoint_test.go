package daemon

import "testing"

func TestEndpointEnvString(t *testing.T) {
	for _, c := range []struct {
		e    Endpoint
		want string
	}{
		{Endpoint{Addr: "127.0.0.1:6380", URL: "redis://127.0.0.1:6380", Env: "REDIS_URL"}, "redis://127.0.0.1:6380"},
		{Endpoint{Addr: "127.0.0.1:7070", URL: "http://127.0.0.1:7070", Env: "KVD_ADDR"}, "127.0.0.1:7070"},
		{Endpoint{Addr: "127.0.0.1:9324", Env: "AWS_ENDPOINT_URL_SQS"}, "127.0.0.1:9324"},
		{Endpoint{Addr: "127.0.0.1:1053", URL: "dns://x", Env: "DNS_SERVER", EnvValue: "127.0.0.1#1053"}, "127.0.0.1#1053"},
	} {
		if got := c.e.EnvString(); got != c.want {
			t.Errorf("%s: EnvString() = %q, want %q", c.e.Env, got, c.want)
		}
	}
}
