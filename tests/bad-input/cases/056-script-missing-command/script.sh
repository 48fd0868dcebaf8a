true &&
