/* SPDX-License-Identifier: MIT */
/**
 * DOC: dmaown
 *
 * A userspace model of Linux's IOMMU DMA-ownership rules. Include this one
 * header to get the whole public API.
 */
#ifndef DMAOWN_H
#define DMAOWN_H

#include "dmaown/device.h"
#include "dmaown/driver.h"
#include "dmaown/iommu.h"
#include "dmaown/machine.h"
#include "dmaown/script.h"
#include "dmaown/sysfs.h"
#include "dmaown/topology.h"
#include "dmaown/vfio.h"

/** dmaown_version() - the library version, "MAJOR.MINOR.PATCH". */
const char *dmaown_version(void);

#endif
