package dynamo

import "github.com/propertyhq/property/internal/envvar"

// Env is where the table is and how to reach DynamoDB, as every process
// (the API, the commands) reads it from the environment: PROPERTY_TABLE_NAME,
// AWS_REGION (required), DYNAMODB_ENDPOINT, DYNAMODB_TIMEOUT,
// DYNAMODB_MAX_ATTEMPTS and DYNAMODB_MAX_BACKOFF, with this package's
// defaults.
type Env struct {
	// Table is PROPERTY_TABLE_NAME, or "": each caller says whether it needs
	// one (a command may take it from a flag).
	Table  string
	Client ClientOptions
}

// ReadEnv reads Env through r, which collects the problems.
func ReadEnv(r *envvar.Reader) Env {
	return Env{
		Table: r.String("PROPERTY_TABLE_NAME"),
		Client: ClientOptions{
			Region:      r.Required("AWS_REGION"),
			Endpoint:    r.String("DYNAMODB_ENDPOINT"),
			Timeout:     r.Duration("DYNAMODB_TIMEOUT", DefaultTimeout),
			MaxAttempts: r.Int("DYNAMODB_MAX_ATTEMPTS", DefaultMaxAttempts, 1, 10),
			MaxBackoff:  r.Duration("DYNAMODB_MAX_BACKOFF", DefaultMaxBackoff),
		},
	}
}
