// Carries PCL's and Eigen's include paths (pkg-config) to the CPCL bridge; declares nothing itself.
