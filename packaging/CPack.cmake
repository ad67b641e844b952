# SPDX-License-Identifier: Apache-2.0
# CPack: outbox-relay_<version>-<revision>+deb<N>_amd64.deb and
# outbox-relay-<version>-<release>.x86_64.rpm from one build, made the way
# a Debian package build makes them (dpkg-buildflags) by
#   packaging/build.sh . build-pkg DEB RPM
# Packages are built with OUTBOX_WERROR off: a warning a newer compiler
# finds must not stop a package build (CI's package builds, test_deb12
# and test_deb13, turn it on).
# The .rpm needs rpmbuild (Debian package `rpm`).
set(pkg ${CMAKE_CURRENT_LIST_DIR})

set(CPACK_GENERATOR "DEB;RPM")
set(CPACK_PACKAGE_NAME outbox-relay)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR "outbox-relay")
set(CPACK_PACKAGE_CONTACT
    "outbox-relay maintainers <maintainers@users.noreply.b-seed-e3d0fb22.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "transactional outbox from MySQL/MariaDB to Kafka and browsers")
set(CPACK_PACKAGE_DESCRIPTION
"outbox-relay reads the binlog of a MySQL or MariaDB server as a replica and
sends the rows inserted into its outbox tables to Kafka, as Debezium's
Outbox Event Router would, with at-least-once or exactly-once delivery.
outbox-sse consumes those events and pushes each waiting user's position
in an online queue to browsers over Server-Sent Events, with ranks from
Redis sorted sets.")
# Apache License 2.0: LICENSE at the top of the tree. Both packages carry
# packaging/copyright (/usr/share/doc/outbox-relay/copyright), which names
# the licence and where its full text is.
set(CPACK_RESOURCE_FILE_LICENSE ${CMAKE_SOURCE_DIR}/LICENSE)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
# Absolute destinations (/etc/outbox-relay) are intended.
set(CPACK_WARN_ON_ABSOLUTE_INSTALL_DESTINATION OFF)

# --- .deb ---------------------------------------------------------------
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# With a new project VERSION, add an entry to deb/changelog.Debian
# (test_deb checks that they agree). The revision names the Debian
# release the package was built on (1+deb12, 1+deb13), read from the
# build system's /etc/os-release: the two .debs depend on different
# libraries (libhiredis0.14 or libhiredis1.1.0, ...) and must not share a
# version. "+debN" sorts after the plain revision, and 13 after 12, so an
# upgrade of the distribution upgrades the package too.
set(OUTBOX_DEB_REVISION 1)
if(NOT DEFINED OUTBOX_DEB_DIST)
  set(OUTBOX_DEB_DIST "")
  if(EXISTS /etc/os-release)
    file(STRINGS /etc/os-release os_id REGEX "^ID=")
    file(STRINGS /etc/os-release os_version REGEX "^VERSION_ID=")
    string(REGEX REPLACE "^VERSION_ID=\"?([0-9]+).*" "\\1" os_version "${os_version}")
    if(os_id STREQUAL "ID=debian" AND os_version MATCHES "^[0-9]+$")
      set(OUTBOX_DEB_DIST "+deb${os_version}")
    endif()
  endif()
endif()
set(CPACK_DEBIAN_PACKAGE_RELEASE ${OUTBOX_DEB_REVISION}${OUTBOX_DEB_DIST})
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps, and only from it
# (Debian 12: libmariadb3, librdkafka1, libhiredis0.14, libyaml-0-2,
# libevent-*-2.1-7, libssl3, libzstd1, libsystemd0, libc6; Debian 13 has
# libhiredis1.1.0, libssl3t64, libevent-*-2.1-7t64); adduser is for the
# postinst and postrm.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${pkg}/deb/postinst ${pkg}/deb/prerm ${pkg}/deb/postrm ${pkg}/deb/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)

# --- .rpm ---------------------------------------------------------------
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_RELEASE 1)
set(CPACK_RPM_PACKAGE_LICENSE "Apache-2.0")
set(CPACK_RPM_PACKAGE_GROUP "System Environment/Daemons")
set(CPACK_RPM_PACKAGE_ARCHITECTURE x86_64)
# Library requirements come from rpm's automatic soname dependencies.
set(CPACK_RPM_PACKAGE_AUTOREQ ON)
# Not relocatable: the units and configs name fixed paths.
set(CPACK_PACKAGE_RELOCATABLE OFF)
set(CPACK_RPM_PACKAGE_RELOCATABLE OFF)
set(CPACK_RPM_PACKAGE_REQUIRES_PRE "shadow-utils")
set(CPACK_RPM_PRE_INSTALL_SCRIPT_FILE ${pkg}/rpm/pre.sh)
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${pkg}/rpm/post.sh)
set(CPACK_RPM_PRE_UNINSTALL_SCRIPT_FILE ${pkg}/rpm/preun.sh)
set(CPACK_RPM_POST_UNINSTALL_SCRIPT_FILE ${pkg}/rpm/postun.sh)
set(CPACK_RPM_USER_FILELIST
    "%config(noreplace) %attr(0640,root,outbox-relay) /etc/outbox-relay/relay.yaml"
    "%config(noreplace) %attr(0640,root,outbox-relay) /etc/outbox-relay/sse.yaml")
# Directories other packages (filesystem, systemd, man) own.
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION
    /usr/lib/systemd /usr/lib/systemd/system /usr/share/man
    /usr/share/man/man5 /usr/share/man/man8 /usr/share/doc)
# No /usr/lib/.build-id links from rpmbuild (the binaries are stripped).
set(CPACK_RPM_SPEC_MORE_DEFINE "%define _build_id_links none")

include(CPack)
