package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// reportInitError tells the Lambda Runtime API at addr why the function
// could not start, so the invocation that triggered the start fails with
// that reason instead of a bare "exit status 1". aws-lambda-go offers no
// call for this; the Runtime API's init/error endpoint is all it takes.
func reportInitError(addr string, err error) error {
	body, _ := json.Marshal(map[string]any{
		"errorMessage": err.Error(),
		"errorType":    initErrorType,
		"stackTrace":   []string{},
	})
	req, rerr := http.NewRequest(http.MethodPost, "http://"+addr+"/2018-06-01/runtime/init/error", bytes.NewReader(body))
	if rerr != nil {
		return rerr
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Lambda-Runtime-Function-Error-Type", initErrorType)
	resp, rerr := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if rerr != nil {
		return rerr
	}
	return resp.Body.Close()
}

const initErrorType = "Runtime.InitError"
