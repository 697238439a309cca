#include "ceigen.h"

#include <Eigen/Dense>
#include <new>

int ceigen_symmetric_eigen(const double *matrix, size_t n, double *values, double *vectors) {
    try {
        using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
        const Eigen::Map<const Matrix> a(matrix, Eigen::Index(n), Eigen::Index(n));
        const Eigen::SelfAdjointEigenSolver<Matrix> solver(a);
        if (solver.info() != Eigen::Success) return CEIGEN_NO_CONVERGENCE;
        Eigen::Map<Eigen::VectorXd>(values, Eigen::Index(n)) = solver.eigenvalues();
        Eigen::Map<Matrix>(vectors, Eigen::Index(n), Eigen::Index(n)) = solver.eigenvectors();
        return CEIGEN_OK;
    } catch (const std::bad_alloc &) {
        return CEIGEN_OUT_OF_MEMORY;
    }
}
