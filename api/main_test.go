package api_test

import (
	"os"
	"testing"

	"github.com/propertyhq/property/internal/dynamolocal"
)

func TestMain(m *testing.M) { os.Exit(dynamolocal.RunTests(m)) }
