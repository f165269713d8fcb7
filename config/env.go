package config

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// EnvPrefix starts every environment variable that overrides a key:
// pipeline.batch.max_delay is SLUICE_PIPELINE_BATCH_MAX_DELAY.
const EnvPrefix = "SLUICE_"

// EnvName is the environment variable that overrides the dotted key.
func EnvName(key string) string {
	return EnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_").Replace(key))
}

// ApplyEnv overrides keys from environ ("NAME=value" entries, as
// os.Environ returns). Lists are comma-separated. A value that does not
// parse is an error naming the variable and the key.
func (c *Config) ApplyEnv(environ []string) error {
	vars := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && strings.HasPrefix(k, EnvPrefix) {
			vars[k] = v
		}
	}
	if len(vars) == 0 {
		return nil
	}
	var err error
	walk(reflect.ValueOf(c).Elem(), "", func(key string, f reflect.Value) {
		v, ok := vars[EnvName(key)]
		if !ok || err != nil {
			return
		}
		if perr := setString(f, v); perr != nil {
			err = fmt.Errorf("%s (%s): %w", EnvName(key), key, perr)
		}
	})
	return err
}

// Set overrides one dotted key from its string form (flags use it).
func (c *Config) Set(key, value string) error {
	found := false
	var err error
	walk(reflect.ValueOf(c).Elem(), "", func(k string, f reflect.Value) {
		if k == key {
			found = true
			if perr := setString(f, value); perr != nil {
				err = fmt.Errorf("%s: %w", key, perr)
			}
		}
	})
	if !found {
		return fmt.Errorf("config: unknown key %q", key)
	}
	return err
}

// Keys lists every dotted key with its current value, for documentation and
// `sluice config`. Secrets print as [redacted]: a Secret's value, and the
// password of a URL's user information (redis.url, registry.url).
func (c *Config) Keys() [][2]string {
	var out [][2]string
	walk(reflect.ValueOf(c).Elem(), "", func(k string, f reflect.Value) {
		out = append(out, [2]string{k, RedactURL(format(f))})
	})
	return out
}

var durationType = reflect.TypeOf(time.Duration(0))

func walk(v reflect.Value, prefix string, fn func(key string, f reflect.Value)) {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if name == "" && opts == "inline" && sf.IsExported() {
			walk(v.Field(i), prefix, fn)
			continue
		}
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		key := name
		if prefix != "" {
			key = prefix + "." + name
		}
		f := v.Field(i)
		if f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Struct {
			continue // routes: listed by RouteKeys, set in the file only
		}
		if f.Kind() == reflect.Struct && f.Type() != durationType {
			walk(f, key, fn)
			continue
		}
		fn(key, f)
	}
}

func setString(f reflect.Value, s string) error {
	if f.Type() == durationType {
		d, err := time.ParseDuration(s)
		if err != nil {
			return err
		}
		f.SetInt(int64(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Bool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return err
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return err
		}
		f.SetInt(n)
	case reflect.Uint, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return err
		}
		f.SetUint(n)
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return err
		}
		f.SetFloat(n)
	case reflect.Slice:
		if f.Type().Elem().Kind() != reflect.String {
			return fmt.Errorf("unsupported list type %s", f.Type())
		}
		var parts []string
		for _, p := range strings.Split(s, ",") {
			if p = strings.TrimSpace(p); p != "" {
				parts = append(parts, p)
			}
		}
		f.Set(reflect.ValueOf(parts))
	default:
		return fmt.Errorf("unsupported type %s", f.Type())
	}
	return nil
}

func format(f reflect.Value) string {
	if f.Type() == durationType {
		return time.Duration(f.Int()).String()
	}
	if f.Kind() == reflect.Slice {
		parts := make([]string, f.Len())
		for i := range parts {
			parts[i] = fmt.Sprint(f.Index(i).Interface())
		}
		return strings.Join(parts, ",")
	}
	return fmt.Sprint(f.Interface())
}
