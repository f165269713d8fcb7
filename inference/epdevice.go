package inference

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// The execution-provider device calls of ONNX Runtime's C API (OrtApi, API
// version 22 and later), which onnxruntime_go does not wrap. OrtApi is a
// table of function pointers that only ever grows at its end, so each call
// is found by its position in the table; TestOrtAPIPositions checks these
// against the C API header that onnxruntime_go ships.
enum {
	sluiceGetErrorMessage = 2,
	sluiceCreateEnv = 3,
	sluiceReleaseStatus = 93,
	sluiceGetEpDevices = 303,
	sluiceAppendExecutionProviderV2 = 304,
	sluiceHardwareDeviceType = 307,
	sluiceEpDeviceEpName = 312,
	sluiceEpDeviceDevice = 316,
};

typedef struct {
	const void *(*GetApi)(uint32_t version);
	const char *(*GetVersionString)(void);
} sluiceApiBase;

static void *const *sluice_api;
static void *sluice_env;

// sluice_status takes an OrtStatus: NULL for success, else a malloc'd copy of
// its message (the status is released).
static char *sluice_status(void *status) {
	if (status == NULL) return NULL;
	const char *(*message)(const void *) = sluice_api[sluiceGetErrorMessage];
	char *s = strdup(message(status));
	((void (*)(void *))sluice_api[sluiceReleaseStatus])(status);
	return s;
}

// sluice_ep_init finds the OrtApi of the ONNX Runtime library already loaded
// from path and takes a reference on its environment (a process-wide
// singleton, the one onnxruntime_go created).
static char *sluice_ep_init(const char *path) {
	void *lib = dlopen(path, RTLD_NOW | RTLD_NOLOAD);
	if (lib == NULL) return strdup("the ONNX Runtime library is not loaded");
	const sluiceApiBase *(*base)(void) = (const sluiceApiBase *(*)(void))dlsym(lib, "OrtGetApiBase");
	if (base == NULL) return strdup("OrtGetApiBase not found");
	const void *api = base()->GetApi(22);
	if (api == NULL) return strdup("the library has no C API version 22 (ONNX Runtime 1.22 or later is needed)");
	sluice_api = (void *const *)api;
	void *(*create_env)(int, const char *, void **) = sluice_api[sluiceCreateEnv];
	return sluice_status(create_env(3, "sluice", &sluice_env));
}

static char *sluice_ep_devices(const void *const **devices, size_t *n) {
	void *(*get)(const void *, const void *const **, size_t *) = sluice_api[sluiceGetEpDevices];
	return sluice_status(get(sluice_env, devices, n));
}

static const void *sluice_ep_device_at(const void *const *devices, size_t i) { return devices[i]; }

static const char *sluice_ep_name(const void *device) {
	return ((const char *(*)(const void *))sluice_api[sluiceEpDeviceEpName])(device);
}

static int sluice_ep_hardware_type(const void *device) {
	const void *hw = ((const void *(*)(const void *))sluice_api[sluiceEpDeviceDevice])(device);
	return ((int (*)(const void *))sluice_api[sluiceHardwareDeviceType])(hw);
}

static char *sluice_append_ep(void *options, const void *device, const char *const *keys,
	const char *const *values, size_t n) {
	void *(*append)(void *, void *, const void *const *, size_t, const char *const *, const char *const *, size_t) =
		sluice_api[sluiceAppendExecutionProviderV2];
	const void *devices[1] = {device};
	return sluice_status(append(options, sluice_env, devices, 1, keys, values, n));
}
*/
import "C"

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"
)

// epDevice is one pairing of an execution provider with a device that the
// loaded ONNX Runtime offers (GetEpDevices): the CPU provider on the CPU
// always, a plugin provider's devices once its library is registered.
type epDevice struct {
	ptr unsafe.Pointer
	ep  string // the provider's name, e.g. CPUExecutionProvider
	gpu bool
}

var epAPI struct {
	sync.Mutex
	err  error
	done bool
}

// initEPAPI finds the execution-provider device calls of the loaded
// library, once.
func initEPAPI() error {
	epAPI.Lock()
	defer epAPI.Unlock()
	if epAPI.done {
		return epAPI.err
	}
	lib := loadedLibrary()
	if lib == "" {
		return errors.New("inference: ONNX Runtime is not initialized")
	}
	p := C.CString(lib)
	defer C.free(unsafe.Pointer(p))
	epAPI.err, epAPI.done = cError(C.sluice_ep_init(p)), true
	if epAPI.err != nil {
		epAPI.err = fmt.Errorf("finding execution-provider devices in %s: %w", lib, epAPI.err)
	}
	return epAPI.err
}

// epDevices lists the provider/device pairs the loaded library offers now.
func epDevices() ([]epDevice, error) {
	if err := initEPAPI(); err != nil {
		return nil, err
	}
	var list *unsafe.Pointer
	var n C.size_t
	if err := cError(C.sluice_ep_devices((**unsafe.Pointer)(unsafe.Pointer(&list)), &n)); err != nil {
		return nil, fmt.Errorf("listing execution-provider devices: %w", err)
	}
	devs := make([]epDevice, 0, int(n))
	for i := range C.size_t(n) {
		d := C.sluice_ep_device_at((*unsafe.Pointer)(unsafe.Pointer(list)), i)
		devs = append(devs, epDevice{
			ptr: d,
			ep:  C.GoString(C.sluice_ep_name(d)),
			gpu: C.sluice_ep_hardware_type(d) == 1, // OrtHardwareDeviceType_GPU
		})
	}
	return devs, nil
}

// appendEPDevice adds d's provider, with the given provider options, to the
// session options o.
func appendEPDevice(o *ort.SessionOptions, d epDevice, options map[string]string) error {
	keys := make([]string, 0, len(options))
	for k := range options {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ck := make([]*C.char, len(keys)+1) // +1: never a zero-length array
	cv := make([]*C.char, len(keys)+1)
	for i, k := range keys {
		ck[i], cv[i] = C.CString(k), C.CString(options[k])
		defer C.free(unsafe.Pointer(ck[i]))
		defer C.free(unsafe.Pointer(cv[i]))
	}
	err := cError(C.sluice_append_ep(sessionOptionsHandle(o), d.ptr, &ck[0], &cv[0], C.size_t(len(keys))))
	if err != nil {
		return fmt.Errorf("adding %s: %w", d.ep, err)
	}
	return nil
}

// sessionOptionsHandle is the OrtSessionOptions pointer that o wraps (its
// only field); TestAppendEPDeviceRunsASession proves the two agree.
func sessionOptionsHandle(o *ort.SessionOptions) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(o))
}

// cError turns a message from the C side into an error, freeing it.
func cError(s *C.char) error {
	if s == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(s))
	return errors.New(C.GoString(s))
}
