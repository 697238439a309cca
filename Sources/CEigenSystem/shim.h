// Carries Eigen's include path (pkg-config eigen3) to the CEigen bridge; declares nothing itself.
