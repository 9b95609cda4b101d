// C99 length modifiers for Debian's newlib printf.
//
// Debian builds newlib without --enable-newlib-io-c99-formats: %zu, %td and
// %jd print as "zu", "td", "jd" and shift every later argument, so a unit
// test printing a size_t could print garbage or fault. The M3 programs are
// linked with -Wl,--wrap=<f> for the printf family; these wrappers rewrite
// z and t to l (size_t and ptrdiff_t are 32 bits, as long is, on
// arm-none-eabi) and j to ll (intmax_t is long long), then call newlib.
#include <stdarg.h>
#include <stdio.h>

#define FMT_MAX (512)

static const char *c99_format(const char *fmt, char *buf, size_t cap)
{
    size_t o = 0;
    int in_spec = 0;
    for (const char *p = fmt; *p != '\0'; p++) {
        char c = *p;
        if (o + 3 >= cap) {
            return fmt; // too long to rewrite: leave it to newlib
        }
        if (!in_spec) {
            in_spec = (c == '%');
            buf[o++] = c;
            continue;
        }
        if (c == 'z' || c == 't') {
            buf[o++] = 'l';
        } else if (c == 'j') {
            buf[o++] = 'l';
            buf[o++] = 'l';
        } else {
            buf[o++] = c;
            // a conversion (or %%) ends the spec; flags, width, precision and
            // h/l/L do not
            if (!(c == '-' || c == '+' || c == ' ' || c == '#' || c == '.' || c == '*' ||
                  (c >= '0' && c <= '9') || c == 'h' || c == 'l' || c == 'L')) {
                in_spec = 0;
            }
        }
    }
    buf[o] = '\0';
    return buf;
}

int __real_vfprintf(FILE *f, const char *fmt, va_list ap);
int __real_vsnprintf(char *s, size_t n, const char *fmt, va_list ap);
int __real_vsprintf(char *s, const char *fmt, va_list ap);

int __wrap_vfprintf(FILE *f, const char *fmt, va_list ap);
int __wrap_vprintf(const char *fmt, va_list ap);
int __wrap_vsnprintf(char *s, size_t n, const char *fmt, va_list ap);
int __wrap_vsprintf(char *s, const char *fmt, va_list ap);
int __wrap_fprintf(FILE *f, const char *fmt, ...);
int __wrap_printf(const char *fmt, ...);
int __wrap_snprintf(char *s, size_t n, const char *fmt, ...);
int __wrap_sprintf(char *s, const char *fmt, ...);

int __wrap_vfprintf(FILE *f, const char *fmt, va_list ap)
{
    char buf[FMT_MAX];
    return __real_vfprintf(f, c99_format(fmt, buf, sizeof buf), ap);
}

int __wrap_vprintf(const char *fmt, va_list ap)
{
    return __wrap_vfprintf(stdout, fmt, ap);
}

int __wrap_vsnprintf(char *s, size_t n, const char *fmt, va_list ap)
{
    char buf[FMT_MAX];
    return __real_vsnprintf(s, n, c99_format(fmt, buf, sizeof buf), ap);
}

int __wrap_vsprintf(char *s, const char *fmt, va_list ap)
{
    char buf[FMT_MAX];
    return __real_vsprintf(s, c99_format(fmt, buf, sizeof buf), ap);
}

int __wrap_fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __wrap_vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}

int __wrap_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __wrap_vfprintf(stdout, fmt, ap);
    va_end(ap);
    return r;
}

int __wrap_snprintf(char *s, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __wrap_vsnprintf(s, n, fmt, ap);
    va_end(ap);
    return r;
}

int __wrap_sprintf(char *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = __wrap_vsprintf(s, fmt, ap);
    va_end(ap);
    return r;
}
