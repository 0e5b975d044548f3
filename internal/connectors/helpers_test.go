package connectors_test

import (
	"errors"

	"github.com/holdfast/holdfast/api"
)

func asValidation(err error, ve **api.ValidationError) bool { return errors.As(err, ve) }
