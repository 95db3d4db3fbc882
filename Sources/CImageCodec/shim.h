// JPEG through libjpeg-turbo's TurboJPEG API, PNG through libpng's simplified read API
// (Debian: libturbojpeg0-dev, libpng-dev).
#include <turbojpeg.h>
#include <png.h>

// libpng's format names are macro expressions; spelled out here so Swift sees plain constants.
static const unsigned int infaas_png_format_rgba = PNG_FORMAT_RGBA;
static const unsigned int infaas_png_image_version = PNG_IMAGE_VERSION;
