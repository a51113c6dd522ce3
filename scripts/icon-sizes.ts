/**
 * Every raster made from assets/icon.svg, and who uses it. electron-builder converts the 1024 px
 * PNG to the macOS .icns and the Windows .ico (its documented minimums are 512 and 256 px); Linux
 * desktops pick from the explicit NxN set (linux.icon); the window and the tray load theirs at run
 * time, so only those are in the app's `files`.
 */
export const ICON_DIR = 'dist/icons';

export interface IconOutput {
  file: string;
  size: number;
}

export const LINUX_ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512];

export const ICON_OUTPUTS: IconOutput[] = [
  { file: 'icon.png', size: 1024 },
  ...LINUX_ICON_SIZES.map((size) => ({ file: `linux/${size}x${size}.png`, size })),
  { file: 'window.png', size: 256 },
  // Electron picks tray@2x.png on high-density screens (its @2x file-name convention).
  { file: 'tray.png', size: 16 },
  { file: 'tray@2x.png', size: 32 },
];
