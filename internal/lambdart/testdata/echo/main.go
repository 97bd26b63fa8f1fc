// Command echo is a Lambda function for the harness's own tests: it returns
// its event, or fails, panics or exits when the event asks it to.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
)

type event struct {
	Fail  string `json:"fail"`
	Panic bool   `json:"panic"`
	Exit  int    `json:"exit"`
}

func main() {
	lambda.Start(func(ctx context.Context, raw json.RawMessage) (json.RawMessage, error) {
		var ev event
		_ = json.Unmarshal(raw, &ev)
		switch {
		case ev.Fail != "":
			return nil, errors.New(ev.Fail)
		case ev.Panic:
			panic("asked to panic")
		case ev.Exit != 0:
			os.Exit(ev.Exit)
		}
		return raw, nil
	})
}
