// MLX's CPU command encoder, which queues a primitive's work on its stream's thread.
//
// mlx/backend/cpu/encoder.h is internal to MLX: not part of its public API, free to change in
// any release. The extension uses get_command_encoder, set_input_array, set_output_array and
// dispatch, which read the same in MLX 0.29 to 0.32 (the sources compile against the headers of
// each, libmlx exports get_command_encoder in each; the tests run on 0.32). For another version
// the build stops here with a message instead of compiling against a header that may now mean
// something else. CMakeLists.txt reads the same range from this file and stops before compiling.
#pragma once

#include "mlx/version.h"

#define APPRENTICE_MLX_KNOWN_FROM 29000  // 0.29.0, as MLX_VERSION_NUMERIC
#define APPRENTICE_MLX_KNOWN_BELOW 33000  // 0.33.0

#if !defined(MLX_VERSION_NUMERIC) || MLX_VERSION_NUMERIC < APPRENTICE_MLX_KNOWN_FROM || \
    MLX_VERSION_NUMERIC >= APPRENTICE_MLX_KNOWN_BELOW
#error "Apprentice's kernel uses MLX's internal CPU encoder, known to work with MLX 0.29 to 0.32 only: install one of those, or check mlx/backend/cpu/encoder.h and widen the range in assistant/kernels/mlx_cpu.h"
#endif

#include "mlx/backend/cpu/encoder.h"
