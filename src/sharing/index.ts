/**
 * Sharing: the Share dialog's body (people and links of a file or folder).
 */
export * from './panel';
