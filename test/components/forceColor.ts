// Imported before ink: chalk picks its colour level when it loads, and a test run is no TTY.
// The component tests decide colour through the store (NO_COLOR), so chalk must be able to emit it.
process.env.FORCE_COLOR = '3';
