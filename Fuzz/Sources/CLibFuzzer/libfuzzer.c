// The module is the header alone; SwiftPM wants a source file in every C target.
