// Lets PCL's I/O headers compile with clang ≥ 20.
//
// Boost 1.74's mpl::integral_c<T, N> names integral_c<T, N - 1> and integral_c<T, N + 1>; for the
// enums of boost/numeric/conversion (reached through boost::numeric_cast and boost::lexical_cast in
// pcl/io/file_io.h) N - 1 lies outside the enum's range, which clang 20+ rejects as a hard error.
// Boost itself specialises integral_c<bool, C> without prior/next for the same reason; we do the same
// for those three enums, before anything instantiates the primary template. Later Boost fixed it.
#pragma once
#include <boost/mpl/integral_c.hpp>
#include <boost/numeric/conversion/int_float_mixture_enum.hpp>
#include <boost/numeric/conversion/sign_mixture_enum.hpp>
#include <boost/numeric/conversion/udt_builtin_mixture_enum.hpp>

#define CPCL_ENUM_INTEGRAL_C(E)                                                                    \
    namespace mpl_ {                                                                               \
    template <E N> struct integral_c<E, N> {                                                       \
        static const E value = N;                                                                  \
        typedef integral_c_tag tag;                                                                \
        typedef integral_c type;                                                                   \
        typedef E value_type;                                                                      \
        operator E() const { return value; }                                                       \
    };                                                                                             \
    }

CPCL_ENUM_INTEGRAL_C(boost::numeric::int_float_mixture_enum)
CPCL_ENUM_INTEGRAL_C(boost::numeric::sign_mixture_enum)
CPCL_ENUM_INTEGRAL_C(boost::numeric::udt_builtin_mixture_enum)

#undef CPCL_ENUM_INTEGRAL_C
