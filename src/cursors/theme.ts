/**
 * Look of remote carets, labels and selections. Each element carries its
 * user's colour in `--jp-collab-user-color` (set inline from awareness) and,
 * for a label, black or white text in `--jp-collab-user-text-color` (whichever
 * reads better on that colour, in either theme); all other colours and fonts
 * come from JupyterLab theme variables.
 */

import { EditorView } from '@codemirror/view';

/**
 * Custom property holding a remote user's colour on each cursor element.
 */
export const USER_COLOR_PROPERTY = '--jp-collab-user-color';

/**
 * Custom property holding the text colour of a remote user's name label.
 */
export const USER_TEXT_COLOR_PROPERTY = '--jp-collab-user-text-color';

const userColor = `var(${USER_COLOR_PROPERTY}, var(--jp-brand-color1))`;

export const remoteCursorsTheme = EditorView.baseTheme({
  '.jp-CollabRemoteSelection': {
    backgroundColor: `color-mix(in srgb, ${userColor} 25%, transparent)`
  },
  '.jp-CollabRemoteCursor': {
    position: 'relative',
    display: 'inline',
    borderLeft: `2px solid ${userColor}`,
    marginLeft: '-1px',
    marginRight: '-1px',
    boxSizing: 'border-box'
  },
  // a small flag on top of the caret: a hover target wider than 2px
  '.jp-CollabRemoteCursor::before': {
    content: '""',
    position: 'absolute',
    top: '-3px',
    left: '-4px',
    width: '6px',
    height: '6px',
    borderRadius: '50%',
    backgroundColor: userColor
  },
  // an invisible strip as tall as the line: pointing at the caret shows the name
  '.jp-CollabRemoteCursor::after': {
    content: '""',
    position: 'absolute',
    top: '0',
    bottom: '0',
    left: '-5px',
    width: '9px'
  },
  '.jp-CollabRemoteCursor-label': {
    position: 'absolute',
    bottom: '100%',
    left: '-2px',
    zIndex: '10',
    padding: '0 3px',
    borderRadius: 'var(--jp-border-radius)',
    backgroundColor: userColor,
    color: `var(${USER_TEXT_COLOR_PROPERTY}, var(--jp-ui-inverse-font-color0))`,
    fontFamily: 'var(--jp-ui-font-family)',
    fontSize: 'var(--jp-ui-font-size0)',
    lineHeight: 'normal',
    whiteSpace: 'nowrap',
    pointerEvents: 'none',
    userSelect: 'none',
    opacity: '0',
    transition: 'opacity 0.8s ease-out'
  },
  // on the first line there is no room above the caret
  '.jp-CollabRemoteCursor.jp-mod-below .jp-CollabRemoteCursor-label': {
    bottom: 'auto',
    top: '100%'
  },
  // a one-line editor (most notebook cells) clips above and below: to the right
  '.jp-CollabRemoteCursor.jp-mod-beside .jp-CollabRemoteCursor-label': {
    bottom: 'auto',
    top: '0',
    left: '4px'
  },
  '.jp-CollabRemoteCursor.jp-mod-active .jp-CollabRemoteCursor-label, .jp-CollabRemoteCursor:hover .jp-CollabRemoteCursor-label':
    {
      opacity: '1',
      transition: 'opacity 0.1s ease-in'
    }
});
