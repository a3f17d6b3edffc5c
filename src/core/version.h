/* version — kho's version string (header only). */
#ifndef KHO_CORE_VERSION_H
#define KHO_CORE_VERSION_H

#define KHO_VERSION "0.1.0"

#endif
