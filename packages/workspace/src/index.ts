// Work in progress: see the package README.
export const packageName: string = "@ws/workspace";
